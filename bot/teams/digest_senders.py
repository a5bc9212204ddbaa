"""Outbox sender for digests on Teams: a minute's P3 mentions in one card that starts a thread, then is updated."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, digest_subject, job_kind
from bot.outbox.relay import Sender
from bot.storage.models import OutboxJob
from bot.teams.digest_render import render_digest
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from handlers.context import Context
from handlers.digests import digest_view


class DigestSenders:
    """Posts each minute's digest once and keeps its lines current: who claimed what, what was done."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for digests."""
        return {job_kind(PLATFORM, JobKind.DIGEST): self.sync_digest}

    async def sync_digest(self, job: OutboxJob) -> None:
        """Post the digest as a new thread in the triage channel, or update it in place."""
        minute = str(job.payload["minute"])
        target = await self._poster.target()  # first: with no channel, nothing is drawn
        view = await digest_view(self._ctx, minute)
        if not view.total:
            return
        card = render_digest(view, self._ctx.config.team.words)
        await self._poster.show(target, digest_subject(minute), card, priority=job.priority)

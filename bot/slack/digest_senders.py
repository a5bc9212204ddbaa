"""Outbox sender for digests on Slack: a minute's P3 mentions in one triage-channel message, posted once, redrawn."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, digest_subject, job_kind
from bot.outbox.relay import Sender
from bot.slack.digest_render import render_digest
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.storage.models import OutboxJob
from handlers.context import Context
from handlers.digests import digest_view


class DigestSenders:
    """Keeps each minute's digest current: its lines, who claimed which, and how many more wait."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for digests."""
        return {job_kind(PLATFORM, JobKind.DIGEST): self.sync_digest}

    async def sync_digest(self, job: OutboxJob) -> None:
        """Post the minute's digest, or update it to show each line as it is now."""
        minute = str(job.payload["minute"])
        text, blocks = render_digest(await digest_view(self._ctx, minute), self._ctx.config.team.words)
        await self._poster.upsert(job, digest_subject(minute), None, text, blocks, thread_ts=None)

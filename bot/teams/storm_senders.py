"""Outbox sender for storm groups on Teams: the storm card starts a thread in the triage channel, then is updated."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, job_kind, storm_subject
from bot.outbox.relay import Sender
from bot.storage.models import OutboxJob
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from bot.teams.storm_render import render_storm
from handlers.context import Context
from handlers.storms import current_storm


class StormSenders:
    """Posts each storm's card once and keeps it current: its members, who holds it, what was done."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for storm cards."""
        return {job_kind(PLATFORM, JobKind.STORM): self.sync_storm}

    async def sync_storm(self, job: OutboxJob) -> None:
        """Post the storm card as a new thread in the triage channel, or update it in place."""
        storm_id = int(job.payload["storm_id"])
        target = await self._poster.target()  # first: with no channel, nothing is drawn
        view = await current_storm(self._ctx, storm_id)
        if view is None:
            return
        card = render_storm(view, self._ctx.config.team.words)
        await self._poster.show(target, storm_subject(storm_id), card, priority=job.priority)

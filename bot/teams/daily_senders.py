"""Outbox sender for the leads' daily summary on Teams: one card starting a thread in the triage channel per date."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, daily_subject, job_kind
from bot.outbox.relay import Sender
from bot.storage.models import OutboxJob
from bot.teams.daily_render import render_daily
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from handlers.context import Context
from handlers.daily import summary_view


class DailySenders:
    """Posts each day's summary once (a retry finds the card it posted)."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for the daily summary."""
        return {job_kind(PLATFORM, JobKind.DAILY): self.post_summary}

    async def post_summary(self, job: OutboxJob) -> None:
        """Post the summary the job carries as a new thread in the triage channel."""
        target = await self._poster.target()
        card = render_daily(summary_view(self._ctx, job.payload), self._ctx.config.team.words)
        await self._poster.show(target, daily_subject(str(job.payload["day"])), card, priority=job.priority)

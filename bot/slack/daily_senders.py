"""Outbox sender for the leads' daily summary on Slack: one message in the triage channel per team date."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, daily_subject, job_kind
from bot.outbox.relay import Sender
from bot.slack.daily_render import render_daily
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.storage.models import OutboxJob
from handlers.context import Context
from handlers.daily import summary_view


class DailySenders:
    """Posts each day's summary once (a retry finds the message it posted)."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for the daily summary."""
        return {job_kind(PLATFORM, JobKind.DAILY): self.post_summary}

    async def post_summary(self, job: OutboxJob) -> None:
        """Post the summary the job carries in the triage channel."""
        text, blocks = render_daily(summary_view(self._ctx, job.payload), self._ctx.config.team.words)
        await self._poster.upsert(job, daily_subject(str(job.payload["day"])), None, text, blocks, thread_ts=None)

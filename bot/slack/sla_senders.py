"""Outbox sender for a storm's gathered SLA reminders on Slack: one message in the triage channel per minute."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, job_kind, reminders_subject
from bot.outbox.relay import Sender
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.slack.sla_render import render_gathered
from bot.storage.models import OutboxJob
from handlers.context import Context
from handlers.sla import reminder_views


class ReminderSenders:
    """Posts each minute's gathered reminders once (a retry finds the message it posted)."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for gathered reminders."""
        return {job_kind(PLATFORM, JobKind.REMINDERS): self.post_gathered}

    async def post_gathered(self, job: OutboxJob) -> None:
        """Post the reminders the job carries in the triage channel (none left to say: nothing)."""
        views = await reminder_views(self._ctx, list(job.payload["items"]))
        if not views:
            return
        team = self._ctx.config.team
        text, blocks = render_gathered(views, team.zone, team.words)
        await self._poster.upsert(job, reminders_subject(str(job.payload["minute"])), None, text, blocks,
                                  thread_ts=None, update=False)

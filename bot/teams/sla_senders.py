"""Outbox sender for a storm's gathered SLA reminders on Teams: one card in the triage channel per minute."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, job_kind, reminders_subject
from bot.outbox.relay import Sender
from bot.storage.models import OutboxJob
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from bot.teams.sla_render import render_gathered
from handlers.context import Context
from handlers.sla import reminder_views


class ReminderSenders:
    """Posts each minute's gathered reminders once (a retry finds the card it posted)."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for gathered reminders."""
        return {job_kind(PLATFORM, JobKind.REMINDERS): self.post_gathered}

    async def post_gathered(self, job: OutboxJob) -> None:
        """Post the reminders the job carries as a new thread in the triage channel (none left to say: nothing)."""
        service_url, tenant, channel = await self._poster.target()
        subject = reminders_subject(str(job.payload["minute"]))
        if await self._poster.recorded(tenant, subject) is not None:
            return  # posted by an earlier attempt: mentioning everyone again would ping them twice
        views = await reminder_views(self._ctx, list(job.payload["items"]))
        if not views:
            return
        team = self._ctx.config.team
        card = render_gathered(views, team.zone, team.words)
        conversation, activity_id = await self._poster.start_thread(service_url, tenant, channel, card,
                                                                    subject=subject, priority=job.priority)
        await self._poster.remember(tenant, subject, None, conversation, activity_id)

"""Outbox sender for spike alerts on Teams: the alert starts a thread in the triage channel, updated once answered."""

from __future__ import annotations

from bot.core.storms.spikes import alert_subject
from bot.outbox.jobs import JobKind, job_kind
from bot.outbox.relay import Sender
from bot.storage.models import OutboxJob
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from bot.teams.spike_render import render_spike
from handlers.context import Context
from handlers.spikes import current_alert


class SpikeSenders:
    """Posts each spike alert once and keeps it showing who answered it."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for spike alerts."""
        return {job_kind(PLATFORM, JobKind.SPIKE): self.sync_alert}

    async def sync_alert(self, job: OutboxJob) -> None:
        """Post the alert as a new thread in the triage channel, or update it in place to show the answer."""
        alert_id = int(job.payload["alert_id"])
        view = await current_alert(self._ctx, alert_id)
        if view is None:
            return
        card = render_spike(view, self._ctx.config.team.words)
        target = await self._poster.target()
        await self._poster.show(target, alert_subject(alert_id), card, priority=job.priority)

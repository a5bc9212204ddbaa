"""Outbox sender for spike alerts on Slack: the alert in the triage channel, updated once people answer it."""

from __future__ import annotations

from bot.core.storms.spikes import alert_subject
from bot.outbox.jobs import JobKind, job_kind
from bot.outbox.relay import Sender
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.slack.spike_render import render_spike
from bot.storage.models import OutboxJob
from handlers.context import Context
from handlers.spikes import current_alert


class SpikeSenders:
    """Posts each spike alert once and keeps it showing who answered it."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for spike alerts."""
        return {job_kind(PLATFORM, JobKind.SPIKE): self.sync_alert}

    async def sync_alert(self, job: OutboxJob) -> None:
        """Post the alert in the triage channel, or update it to show the answer."""
        alert_id = int(job.payload["alert_id"])
        view = await current_alert(self._ctx, alert_id)
        if view is None:
            return
        message = render_spike(view, self._ctx.config.team.words)
        await self._poster.upsert(job, alert_subject(alert_id), None, *message, thread_ts=None)

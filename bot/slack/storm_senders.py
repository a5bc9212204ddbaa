"""Outbox sender for storm groups on Slack: the storm card in the triage channel, posted once and updated after."""

from __future__ import annotations

from bot.outbox.jobs import JobKind, job_kind, storm_subject
from bot.outbox.relay import Sender
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.slack.storm_render import render_storm
from bot.storage.models import OutboxJob
from handlers.context import Context
from handlers.storms import current_storm


class StormSenders:
    """Keeps each storm's card current: its size, samples, where it stands and its buttons."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for storm cards."""
        return {job_kind(PLATFORM, JobKind.STORM): self.sync_storm}

    async def sync_storm(self, job: OutboxJob) -> None:
        """Post the storm's card, or update it to show the storm as it is now."""
        storm_id = int(job.payload["storm_id"])
        view = await current_storm(self._ctx, storm_id)
        if view is None:
            return
        text, blocks = render_storm(view, self._ctx.config.team.words)
        await self._poster.upsert(job, storm_subject(storm_id), None, text, blocks, thread_ts=None)

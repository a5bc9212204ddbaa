"""Outbox senders for crises on Teams: the checklist thread in the triage channel, its reminders and report, once."""

from __future__ import annotations

import logging

from bot.outbox.jobs import (
    CrisisNoticeKind,
    CrisisPart,
    JobKind,
    crisis_notice_subject,
    crisis_subject,
    job_kind,
)
from bot.outbox.relay import RetryLater, Sender
from bot.storage.models import OutboxJob
from bot.teams.checklist import render_checklist, render_reminder, render_report
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from handlers.cards import crisis_notice
from handlers.context import Context
from handlers.crisis import current_checklist

logger = logging.getLogger(__name__)

class CrisisSenders:
    """Keeps a crisis' thread in the Teams triage channel: its root is the checklist, replies are notices."""

    def __init__(self, poster: TeamsPoster, ctx: Context) -> None:
        self._poster, self._ctx = poster, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for crises."""
        return {job_kind(PLATFORM, JobKind.CRISIS): self.sync_checklist,
                job_kind(PLATFORM, JobKind.CRISIS_NOTICE): self.post_notice}

    async def sync_checklist(self, job: OutboxJob) -> None:
        """Start the crisis' thread with its checklist, or update the checklist in place (level-triggered)."""
        crisis_id = int(job.payload["crisis_id"])
        view = await current_checklist(self._ctx, crisis_id)
        if view is None:
            return
        card = render_checklist(view, self._ctx.config.team.words)
        service_url, tenant, channel = await self._poster.target()
        subject = crisis_subject(crisis_id, CrisisPart.CHECKLIST)  # the thread's root: checklist, banner, room
        existing = await self._poster.recorded(tenant, subject)
        if existing is not None:
            await self._poster.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        conversation, root = await self._poster.start_thread(service_url, tenant, channel, card, subject=subject)
        # The thread (`<channel>;messageid=<root>`) belongs to this crisis alone, so commands typed in it act on it.
        await self._poster.remember(tenant, subject, None, conversation, root, crisis_id=crisis_id)
        logger.info("teams: crisis %s has its thread %s", crisis_id, conversation)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a reminder or the report as a reply in the crisis' thread (once per job)."""
        crisis_id = int(job.payload["crisis_id"])
        kind = job.payload.get("kind")
        if kind not in tuple(CrisisNoticeKind):
            raise ValueError(f"unknown crisis notice kind {kind!r}")
        service_url, tenant, _channel = await self._poster.target()
        subject = crisis_notice_subject(job.key, keep_start=True)
        thread = await self._poster.recorded(tenant, crisis_subject(crisis_id, CrisisPart.CHECKLIST))
        posted = await self._poster.recorded(tenant, subject)
        notice = await crisis_notice(self._ctx, crisis_id, CrisisNoticeKind(kind), str(job.payload.get("step")),
                                     str(job.payload.get("level")))
        if notice is None or posted is not None:
            return
        if thread is None:
            raise RetryLater("the crisis' thread is not posted yet", delay=1.0, count_attempt=False)
        if notice.reminder is not None:
            card = render_reminder(notice.reminder, self._ctx.config.team.words)
        elif notice.report:
            card = render_report(notice.crisis, notice.report, self._ctx.config.team.words)
        else:  # the step was done (or the crisis ended) meanwhile, or there is no report: nothing to post
            return
        sent = await self._poster.post_in(service_url, tenant, thread.channel, card, subject=subject)
        await self._poster.remember(tenant, subject, None, thread.channel, sent, crisis_id=crisis_id)


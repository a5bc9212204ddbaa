"""Outbox senders for crises on Teams: the checklist thread in the triage channel, its reminders and report, once."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from bot.core.views import CrisisTag
from bot.outbox.relay import RetryLater, Sender
from bot.storage.models import OutboxJob
from bot.teams.checklist import render_checklist, render_reminder, render_report
from handlers.context import Context
from handlers.crisis import current_checklist, reminder_view

if TYPE_CHECKING:
    from bot.teams.messenger import TeamsMessenger

logger = logging.getLogger(__name__)

PLATFORM = "teams"
SUBJECT_LIMIT = 100  # ChatMessage.subject


def checklist_subject(crisis_id: int) -> str:
    """The remembered root post of a crisis' thread: checklist, banner and room in one."""
    return f"crisis:{crisis_id}:checklist"


class TeamsCrisisMessenger:
    """Keeps a crisis' thread in the Teams triage channel: its root is the checklist, replies are notices."""

    def __init__(self, teams: TeamsMessenger, ctx: Context) -> None:
        self._teams, self._ctx = teams, ctx

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for crises."""
        return {"teams.crisis": self.sync_checklist, "teams.crisis_notice": self.post_notice}

    async def sync_checklist(self, job: OutboxJob) -> None:
        """Start the crisis' thread with its checklist, or update the checklist in place (level-triggered)."""
        crisis_id = int(job.payload["crisis_id"])
        view = await current_checklist(self._ctx, crisis_id)
        if view is None:
            return
        card = render_checklist(view)
        service_url, tenant, channel = await self._teams.target()
        subject = checklist_subject(crisis_id)
        async with self._ctx.db.uow() as uow:
            existing = await uow.messages.get(PLATFORM, tenant, subject)
        if existing is not None:
            await self._teams.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        conversation, root = await self._teams.start_thread(service_url, tenant, channel, card, subject=subject)
        # The thread (`<channel>;messageid=<root>`) belongs to this crisis alone, so commands typed in it act on it.
        await self._teams.remember(tenant, subject, None, conversation, root, crisis_id=crisis_id)
        logger.info("teams: crisis %s has its thread %s", crisis_id, conversation)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a reminder or the report as a reply in the crisis' thread (once per job)."""
        crisis_id = int(job.payload["crisis_id"])
        kind = job.payload.get("kind")
        if kind not in ("reminder", "report"):
            raise ValueError(f"unknown crisis notice kind {kind!r}")
        service_url, tenant, _channel = await self._teams.target()
        subject = _notice_subject(job.key)
        async with self._ctx.db.uow() as uow:
            thread = await uow.messages.get(PLATFORM, tenant, checklist_subject(crisis_id))
            posted = await uow.messages.get(PLATFORM, tenant, subject)
            crisis = await uow.crises.get(crisis_id)
            reminder = None
            if kind == "reminder" and crisis is not None:
                reminder = await reminder_view(uow, self._ctx, crisis_id, str(job.payload.get("step")),
                                               str(job.payload.get("level")), self._ctx.clock())
        if crisis is None or posted is not None:
            return
        if thread is None:
            raise RetryLater("the crisis' thread is not posted yet", delay=1.0, count_attempt=False)
        if kind == "reminder":
            if reminder is None:  # the step was done (or the crisis ended) meanwhile: nothing to remind
                return
            card = render_reminder(reminder)
        else:
            if not crisis.report:
                return
            card = render_report(CrisisTag(crisis_id, crisis.title, crisis.drill), crisis.report)
        sent = await self._teams.post_in(service_url, tenant, thread.channel, card, subject=subject)
        await self._teams.remember(tenant, subject, None, thread.channel, sent, crisis_id=crisis_id)


def _notice_subject(key: str) -> str:
    """`crisis-notice:<key>` for the job `teams:crisis-notice:<key>`, shortened by a digest if it is too long."""
    subject = key.removeprefix(f"{PLATFORM}:")
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    return f"{subject[:SUBJECT_LIMIT - len(digest) - 1]}~{digest}"

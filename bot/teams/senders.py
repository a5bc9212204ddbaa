"""Outbox senders for mentions on Teams: each card starts a thread in the triage channel; drafts and notices reply."""

from __future__ import annotations

from typing import Any

from bot.core.wording import failure_notice
from bot.metrics import Metrics
from bot.outbox.jobs import JobKind, NoticeKind, card_subject, draft_subject, job_kind, notice_subject
from bot.outbox.relay import RetryLater, Sender
from bot.storage.models import OutboxJob
from bot.teams.cards import adaptive_card, rich_text, run
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import PLATFORM
from bot.teams.poster import TeamsPoster
from bot.teams.render import render_card, render_draft, render_escalation_notice
from bot.teams.sla_render import render_gathered, render_reminder
from handlers.cards import current_card, current_draft, escalation_notice
from handlers.context import Context
from handlers.digests import shown_elsewhere
from handlers.sla import reminder_views

NOTICE_LIMIT = 1000  # characters of a failure line in the triage channel


def failure_card(text: str) -> dict[str, Any]:
    """A line for the triage channel saying a job was given up on.

    The text may quote what a customer sent, so it is a TextRun: nothing in it formats, links or mentions.
    """
    line = clip(text, NOTICE_LIMIT)
    body = [rich_text("webcare-failure", [run("⚠ ", color="attention"), run(line)])]
    return adaptive_card(body, fallback_text=escape_markdown(f"⚠ {line}"))


class MentionSenders:
    """Keeps each mention's card current and posts its drafts and notices as replies in the card's thread."""

    def __init__(self, poster: TeamsPoster, ctx: Context, metrics: Metrics) -> None:
        self._poster, self._ctx, self._config = poster, ctx, ctx.config
        self._metrics = metrics

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds these senders handle."""
        return {job_kind(PLATFORM, JobKind.CARD): self.sync_card, job_kind(PLATFORM, JobKind.DRAFT): self.sync_draft,
                job_kind(PLATFORM, JobKind.NOTICE): self.post_notice}

    async def sync_card(self, job: OutboxJob) -> None:
        """Post the mention's card as a new thread, or update it in place."""
        mention_id = job.mention_id or 0
        service_url, tenant, channel = await self._poster.target()
        subject = card_subject(mention_id)
        existing = await self._poster.recorded(tenant, subject)
        if existing is None and await shown_elsewhere(self._ctx, mention_id):
            return  # its storm's card shows it; a card posted before it joined is kept current below
        view = await current_card(self._ctx, mention_id)
        departments = [self._config.department_view(key) for key in self._config.departments]
        card = render_card(view, departments, self._config.team.words)
        if existing is not None:
            await self._poster.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        conversation, activity_id = await self._poster.start_thread(service_url, tenant, channel, card,
                                                                    subject=subject, priority=job.priority)
        await self._poster.remember(tenant, subject, mention_id, conversation, activity_id)
        self._metrics.posted.labels(platform=PLATFORM).inc()

    async def sync_draft(self, job: OutboxJob) -> None:
        """Post or update a draft in the card's thread."""
        draft_id = int(job.payload["draft_id"])
        draft = await current_draft(self._ctx, draft_id)
        if draft is None:
            return
        await self._in_thread(job, draft_subject(draft_id), render_draft(draft, self._config.team.words), update=True)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a one-off notice: an escalation or SLA reminder pinging people in the card's thread, or a failure line
        in the channel."""
        if job.payload.get("kind") == NoticeKind.FAILED:
            await self._post_failure(job)
            return
        if job.payload.get("kind") == NoticeKind.SLA:
            await self._post_reminder(job)
            return
        if job.payload.get("kind") != NoticeKind.ESCALATION:
            raise ValueError(f"unknown notice kind {job.payload.get('kind')!r}")
        notice = escalation_notice(self._config, job.mention_id or 0, job.payload)
        card = render_escalation_notice(notice, self._config.team.words)
        await self._in_thread(job, notice_subject(job.key), card, update=False)

    async def _post_reminder(self, job: OutboxJob) -> None:
        """An SLA reminder in the card's thread; in the channel, saying what it is about, when the mention has no
        card of its own (its storm's card shows it)."""
        views = await reminder_views(self._ctx, [job.payload])
        if not views:
            return  # the mention was erased meanwhile
        team = self._config.team
        card = render_reminder(views[0], team.zone, team.words)
        _service_url, tenant, _channel = await self._poster.target()
        if await self._poster.recorded(tenant, card_subject(job.mention_id)) is None and \
                await shown_elsewhere(self._ctx, job.mention_id or 0):
            await self._in_channel(job, notice_subject(job.key), render_gathered(views, team.zone, team.words))
            return
        await self._in_thread(job, notice_subject(job.key), card, update=False)

    async def _post_failure(self, job: OutboxJob) -> None:
        """A new thread in the triage channel saying a job was given up on (a failed card has no thread to go in)."""
        facts = job.payload.get("facts")  # a notice queued before the words moved to the catalogue has its text
        said = failure_notice(self._config.team.words, facts) if facts else str(job.payload.get("text") or "")
        await self._in_channel(job, notice_subject(job.key), failure_card(said))

    async def _in_channel(self, job: OutboxJob, subject: str, card: dict[str, Any]) -> None:
        """Post the card as a new thread in the triage channel, once."""
        service_url, tenant, channel = await self._poster.target()
        if await self._poster.recorded(tenant, subject) is not None:
            return
        conversation, activity_id = await self._poster.start_thread(service_url, tenant, channel, card,
                                                                    subject=subject)
        await self._poster.remember(tenant, subject, job.mention_id, conversation, activity_id)

    async def _in_thread(self, job: OutboxJob, subject: str, card: dict[str, Any], *, update: bool) -> None:
        service_url, tenant, _channel = await self._poster.target()
        thread = await self._poster.recorded(tenant, card_subject(job.mention_id))
        existing = await self._poster.recorded(tenant, subject)
        if thread is None:
            if await shown_elsewhere(self._ctx, job.mention_id or 0):
                return  # the card will never be posted: its storm's card shows the mention
            raise RetryLater("the card is not posted yet", delay=1.0, count_attempt=False)
        if existing is not None:
            if update:
                await self._poster.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        sent = await self._poster.post_in(service_url, tenant, thread.channel, card, subject=subject)
        await self._poster.remember(tenant, subject, job.mention_id, thread.channel, sent)

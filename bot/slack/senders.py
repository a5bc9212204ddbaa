"""Outbox senders for mentions on Slack: the card in the triage channel, drafts and notices in its thread."""

from __future__ import annotations

from bot.core.wording import failure_notice
from bot.metrics import Metrics
from bot.outbox.jobs import JobKind, NoticeKind, card_subject, draft_subject, job_kind, notice_subject
from bot.outbox.relay import RetryLater, Sender
from bot.slack.escape import escape_mrkdwn
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.slack.render import render_card, render_draft, render_escalation_notice
from bot.slack.sla_render import render_gathered, render_reminder
from bot.storage.models import ChatMessage, OutboxJob
from handlers.cards import current_card, current_draft, escalation_notice
from handlers.context import Context
from handlers.digests import shown_elsewhere
from handlers.sla import reminder_views


class MentionSenders:
    """Keeps each mention's card current and posts its drafts and notices in the card's thread."""

    def __init__(self, poster: SlackPoster, ctx: Context, metrics: Metrics) -> None:
        self._poster, self._ctx, self._config = poster, ctx, ctx.config
        self._metrics = metrics

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds these senders handle."""
        return {job_kind(PLATFORM, JobKind.CARD): self.sync_card, job_kind(PLATFORM, JobKind.DRAFT): self.sync_draft,
                job_kind(PLATFORM, JobKind.NOTICE): self.post_notice}

    async def sync_card(self, job: OutboxJob) -> None:
        """Post the mention's card, or update it to show the current state (a mention whose card was not posted
        yet and that is shown on a storm card or in a digest gets none)."""
        mention_id = job.mention_id or 0
        if await self._poster.recorded(card_subject(mention_id)) is None and \
                await shown_elsewhere(self._ctx, mention_id):
            return
        text, blocks = render_card(await current_card(self._ctx, mention_id), self._config.team.words)
        posted = await self._poster.upsert(job, card_subject(mention_id), mention_id, text, blocks, thread_ts=None)
        if posted:
            self._metrics.posted.labels(platform=PLATFORM).inc()

    async def sync_draft(self, job: OutboxJob) -> None:
        """Post or update a draft's message in the card's thread."""
        draft_id = int(job.payload["draft_id"])
        card = await self._card_message(job.mention_id or 0)
        draft = await current_draft(self._ctx, draft_id)
        if card is None or draft is None:
            return
        text, blocks = render_draft(draft, self._config.team.words)
        await self._poster.upsert(job, draft_subject(draft_id), job.mention_id, text, blocks, thread_ts=card.ts)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a one-off notice (e.g. an escalation pinging heads) in the card's thread."""
        if job.payload.get("kind") == NoticeKind.FAILED:
            await self._post_failure(job)
            return
        if job.payload.get("kind") == NoticeKind.SLA:
            await self._post_reminder(job)
            return
        card = await self._card_message(job.mention_id or 0)
        if job.payload.get("kind") != NoticeKind.ESCALATION:
            raise ValueError(f"unknown notice kind {job.payload.get('kind')!r}")
        if card is None:
            return
        notice = escalation_notice(self._config, job.mention_id or 0, job.payload)
        text, blocks = render_escalation_notice(notice, self._config.team.words)
        await self._poster.upsert(job, notice_subject(job.key), job.mention_id, text, blocks, thread_ts=card.ts,
                                  update=False)

    async def _post_reminder(self, job: OutboxJob) -> None:
        """An SLA reminder in the card's thread; in the channel, saying what it is about, when the mention has no
        card of its own (its storm's card shows it)."""
        views = await reminder_views(self._ctx, [job.payload])
        if not views:
            return  # the mention was erased meanwhile
        card = await self._card_message(job.mention_id or 0)
        team = self._config.team
        text, blocks = render_reminder(views[0], team.zone, team.words) if card else \
            render_gathered(views, team.zone, team.words)
        await self._poster.upsert(job, notice_subject(job.key), job.mention_id, text, blocks,
                                  thread_ts=card.ts if card else None, update=False)

    async def _post_failure(self, job: OutboxJob) -> None:
        """A plain line in the triage channel: a job was given up on (its card may be the thing that is missing)."""
        facts = job.payload.get("facts")  # a notice queued before the words moved to the catalogue has its text
        said = failure_notice(self._config.team.words, facts) if facts else str(job.payload.get("text", ""))
        text = f":warning: {escape_mrkdwn(said)}"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        await self._poster.upsert(job, notice_subject(job.key), job.mention_id, text, blocks, thread_ts=None,
                                  update=False)

    async def _card_message(self, mention_id: int) -> ChatMessage | None:
        """The card's message, whose thread takes the job; None when there is no card and will be none (the mention
        shows on its storm card alone)."""
        card = await self._poster.recorded(card_subject(mention_id))
        if card is None:
            if await shown_elsewhere(self._ctx, mention_id):
                return None
            raise RetryLater("the card is not posted yet", delay=1.0, count_attempt=False)
        return card

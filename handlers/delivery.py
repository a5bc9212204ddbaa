"""Deliver a reply draft to its network through the mention's connector (run by the outbox relay)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.core.views import DraftState
from bot.outbox.relay import RetryLater, backoff
from bot.replies.base import DeliveryError, MentionRef, ReplyConnector, ReplyRequest
from bot.storage.models import OutboxJob
from handlers.answering import record_delivery
from handlers.context import Context

logger = logging.getLogger(__name__)

# Tries of the outbox (each with the connector's own quick retries) before a transient failure counts as failed:
# with the relay's backoff, about ten minutes unless the network asks for longer waits.
REPLY_TRIES = 10


class ReplyDelivery:
    """The outbox sender for `reply` jobs."""

    def __init__(self, ctx: Context, connectors: Mapping[str, ReplyConnector]) -> None:
        self._ctx, self._connectors = ctx, connectors

    async def __call__(self, job: OutboxJob) -> None:
        """Deliver once; a transient failure comes back later (`REPLY_TRIES` in all), a refusal for good or the
        last try shows on the card with the reason and Retry, and the mention is open again."""
        draft_id = int(job.payload["draft_id"])
        async with self._ctx.db.uow() as uow:
            draft = await uow.drafts.get(draft_id)
            mention = await uow.mentions.get(job.mention_id or 0)
        if draft is None or mention is None or draft.state != DraftState.SENDING:
            return
        connector = self._connectors.get(mention.reply_via or "")
        if connector is None:
            await record_delivery(draft_id, ctx=self._ctx,
                                  error=self._ctx.config.team.words("draft.connector_missing",
                                                                    connector=mention.reply_via))
            self._ctx.metrics.replies.labels(outcome="failed").inc()
            return
        request = ReplyRequest(
            mention=MentionRef(source=mention.source, source_mention_id=mention.source_mention_id,
                               network=mention.network, network_item_id=mention.network_item_id, url=mention.url,
                               author_handle=mention.author_handle),
            text=draft.text, agent=draft.author_name, idempotency_key=f"webcare-draft-{draft_id}")
        try:
            receipt = await connector.deliver(request)
        except DeliveryError as exc:
            if exc.transient and job.attempts < REPLY_TRIES:
                self._ctx.metrics.replies.labels(outcome="retry").inc()
                raise RetryLater(exc.reason, delay=exc.retry_after or backoff(job.attempts)) from None
            reason = self._ctx.config.team.words("draft.gave_up", reason=exc.reason, tries=job.attempts) \
                if exc.transient else exc.reason
            logger.warning("reply: draft %s not delivered by %s: %s", draft_id, connector.name, reason)
            self._ctx.metrics.replies.labels(outcome="failed").inc()
            await record_delivery(draft_id, ctx=self._ctx, error=reason)
            return
        self._ctx.metrics.replies.labels(outcome="sent").inc()
        await record_delivery(draft_id, ctx=self._ctx, receipt=receipt)

    async def failed(self, job: OutboxJob, reason: str) -> None:
        """The relay gave the delivery up (an unexpected error, again and again): show it on the card, with Retry."""
        self._ctx.metrics.replies.labels(outcome="failed").inc()
        await record_delivery(int(job.payload["draft_id"]), ctx=self._ctx,
                              error=self._ctx.config.team.words("draft.not_sent", reason=reason))

"""Outbox senders for Slack: post or update cards, drafts, notices and crises, exactly once, paced per channel."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.outbox.fanout import FAILURE_NOTICE
from bot.outbox.relay import GiveUp, RetryLater, Sender
from bot.slack import calls
from bot.slack.crisis_messenger import CrisisMessenger
from bot.slack.escape import escape_mrkdwn
from bot.slack.render import render_card, render_draft, render_escalation_notice
from bot.storage.models import ChatMessage, OutboxJob
from handlers.cards import card_view, draft_view, escalation_notice
from handlers.context import Context

logger = logging.getLogger(__name__)

PLATFORM = "slack"
METADATA_TYPE = "webcare_message"
POSTS_PER_SECOND_PER_CHANNEL = 1.0
# The token or the app itself is refused: people can fix that without anything changing in the job.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                         "missing_scope", "team_access_not_granted", "ekm_access_denied"})


class ChannelPacer:
    """At most one post per second per channel (Slack's chat.postMessage limit)."""

    def __init__(self, interval: float = 1.0 / POSTS_PER_SECOND_PER_CHANNEL) -> None:
        self._interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        """Sleep until this channel may take another post."""
        async with self._locks.setdefault(channel, asyncio.Lock()):
            now = time.monotonic()
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SlackMessenger:
    """Sends what the outbox asks for to the triage channel and the cards' threads."""

    def __init__(self, client: AsyncWebClient, ctx: Context, channel: str, metrics: Metrics, *,
                 pacer: ChannelPacer | None = None) -> None:
        self._client, self._db, self._config, self._channel = client, ctx.db, ctx.config, channel
        self._metrics, self._clock = metrics, ctx.clock
        self._pacer = pacer or ChannelPacer()
        self._workspace: str | None = None
        self._crises = CrisisMessenger(self, client, ctx, channel)

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds this messenger handles."""
        return {"slack.card": self.sync_card, "slack.draft": self.sync_draft, "slack.notice": self.post_notice,
                "slack.crisis": self._crises.sync_crisis, "slack.crisis_notice": self._crises.post_notice}

    async def workspace(self) -> str:
        """The Slack team id the bot token belongs to."""
        if self._workspace is None:
            self._workspace = (await self.call(self._client.auth_test))["team_id"]
        return self._workspace

    async def sync_card(self, job: OutboxJob) -> None:
        """Post the mention's card, or update it to show the current state."""
        mention_id = job.mention_id or 0
        async with self._db.uow() as uow:
            text, blocks = render_card(await card_view(uow, self._config, mention_id, self._clock()))
        posted = await self.upsert(job, f"card:{mention_id}", mention_id, text, blocks, thread_ts=None)
        if posted:
            self._metrics.posted.labels(platform=PLATFORM).inc()

    async def sync_draft(self, job: OutboxJob) -> None:
        """Post or update a draft's message in the card's thread."""
        draft_id = int(job.payload["draft_id"])
        card = await self._card_message(job.mention_id or 0)
        async with self._db.uow() as uow:
            draft = await uow.drafts.get(draft_id)
            if draft is None:
                return
            text, blocks = render_draft(draft_view(self._config, draft))
        await self.upsert(job, f"draft:{draft_id}", job.mention_id, text, blocks, thread_ts=card.ts)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a one-off notice (e.g. an escalation pinging heads) in the card's thread."""
        if job.payload.get("kind") == FAILURE_NOTICE:
            await self._post_failure(job)
            return
        card = await self._card_message(job.mention_id or 0)
        if job.payload.get("kind") != "escalation":
            raise ValueError(f"unknown notice kind {job.payload.get('kind')!r}")
        text, blocks = render_escalation_notice(escalation_notice(self._config, job.mention_id or 0, job.payload))
        subject = f"notice:{job.key.split(':', 2)[2]}"
        await self.upsert(job, subject, job.mention_id, text, blocks, thread_ts=card.ts, update=False)

    async def _post_failure(self, job: OutboxJob) -> None:
        """A plain line in the triage channel: a job was given up on (its card may be the thing that is missing)."""
        text = f":warning: {escape_mrkdwn(str(job.payload.get('text', '')))}"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        subject = f"notice:{job.key.split(':', 2)[2]}"
        await self.upsert(job, subject, job.mention_id, text, blocks, thread_ts=None, update=False)

    async def _card_message(self, mention_id: int) -> ChatMessage:
        workspace = await self.workspace()
        async with self._db.uow() as uow:
            card = await uow.messages.get(PLATFORM, workspace, f"card:{mention_id}")
        if card is None:
            raise RetryLater("the card is not posted yet", delay=1.0, count_attempt=False)
        return card

    async def upsert(self, job: OutboxJob, subject: str, mention_id: int | None, text: str,
                     blocks: list[dict[str, Any]], *, thread_ts: str | None, update: bool = True,
                     channel: str | None = None, crisis_id: int | None = None) -> bool:
        """Update the subject's message if posted, else post it; returns whether a new message was posted.

        The message goes to the triage channel unless `channel` names another; `crisis_id` marks a message in a
        crisis' own room, so that commands typed there act on that crisis.
        """
        channel = channel or self._channel
        workspace = await self.workspace()
        async with self._db.uow() as uow:
            existing = await uow.messages.get(PLATFORM, workspace, subject)
        if existing is not None:
            if update:
                await self.call(self._client.chat_update, channel=existing.channel, ts=existing.ts, text=text,
                                 blocks=blocks, final=True)
            return False
        ts = await self._find_earlier_post(channel, subject, thread_ts, job) if job.attempts > 1 else None
        if ts is None:
            await self._pacer.wait(channel)
            response = await self.call(
                self._client.chat_postMessage, idempotent=False, channel=channel, text=text, blocks=blocks,
                thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, final=True,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"subject": subject}})
            ts = response["ts"]
        elif update:
            await self.call(self._client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks, final=True)
        async with self._db.uow() as uow:
            await uow.messages.add(ChatMessage(platform=PLATFORM, workspace=workspace, subject=subject,
                                               mention_id=mention_id, crisis_id=crisis_id, channel=channel, ts=ts,
                                               thread_ts=thread_ts, posted_at=self._clock()))
            await uow.commit()
        return True

    async def _find_earlier_post(self, channel: str, subject: str, thread_ts: str | None,
                                 job: OutboxJob) -> str | None:
        """After an attempt whose outcome is unknown (crash, timeout), find the message it may have posted."""
        oldest = (job.created_at - timedelta(minutes=1)).timestamp()
        cursor = None
        while True:
            kwargs: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200,
                                      "oldest": f"{oldest:.6f}", "cursor": cursor}
            if thread_ts is None:
                response = await self.call(self._client.conversations_history, **kwargs)
            else:
                response = await self.call(self._client.conversations_replies, ts=thread_ts, **kwargs)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                if (metadata.get("event_type") == METADATA_TYPE
                        and metadata.get("event_payload", {}).get("subject") == subject):
                    logger.info("slack: %s was already posted before a restart; adopting it", subject)
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    async def call(self, fn: Any, *, idempotent: bool = True, final: bool = False, **kwargs: Any) -> Any:
        """Call Slack; a transient failure sends the job back to the outbox (a post's next attempt looks first).

        With `final`, Slack refusing the call (other than the token) gives the job up: it would refuse it again.
        """
        try:
            return await calls.call(fn, idempotent=idempotent, **kwargs)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            if not calls.is_transient(exc):
                if final and isinstance(exc, SlackApiError):
                    error = str(exc.response.get("error") or "error")
                    if error in AUTH_ERRORS:
                        raise RetryLater(f"Slack refused the token ({error})", delay=60.0) from None
                    raise GiveUp(f"Slack refused {getattr(fn, '__name__', 'the call')}: {error}") from None
                raise
            reason = f"Slack {exc.response.status_code}" if isinstance(exc, SlackApiError) else type(exc).__name__
            raise RetryLater(reason, delay=calls.retry_after(exc) or 5.0) from None

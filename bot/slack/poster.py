"""Posting on Slack for the outbox: post or update a subject's message at most once, paced, and remember it."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.pacing import Pacer
from bot.outbox.jobs import PEOPLE_FIRST, URGENT
from bot.outbox.relay import GiveUp, RetryLater
from bot.slack import calls
from bot.slack.ids import PLATFORM
from bot.storage.models import ChatMessage, OutboxJob
from handlers import messages
from handlers.context import Context

logger = logging.getLogger(__name__)

METADATA_TYPE = "webcare_message"
CHANNEL_WINDOWS = ((1, 1.0),)  # chat.postMessage: one post per second per channel
# chat.update is a Tier 3 method (about 50 a minute per workspace, short bursts allowed): a crisis redrawing a
# hundred cards, or storm cards and digests redrawn in a storm, stay within it (in each process), clicks first.
UPDATE_WINDOWS = ((50, 60.0),)
UPDATE_KEY = "chat.update"
POST_SPACING = 1.0  # and so, across every process on the database, one post a second per channel
# Slack allows short bursts over that pace: an urgent post (a person's action, a P1 card) may go up
# to half a slot early, so two P1 cards at once both go within 2 s; the schedule moves on by their slots, so the
# backlog gives the burst back. Half, not a whole slot: a whole one leaves Slack's bucket no room for the network's
# jitter (measured: 429s); everything else keeps the steady pace.
URGENT_BURST = 0.5
# The token or the app itself is refused: people can fix that without anything changing in the job.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                         "missing_scope", "team_access_not_granted", "ekm_access_denied"})


class SlackPoster:
    """Sends the bot's messages to the triage channel (or another) and keeps where each subject's message went."""

    def __init__(self, client: AsyncWebClient, ctx: Context, channel: str, *,
                 pacer: Pacer | None = None) -> None:
        self.client, self.triage, self._ctx = client, channel, ctx
        self._pacer = pacer or Pacer(CHANNEL_WINDOWS)
        self._updates = Pacer(UPDATE_WINDOWS)
        self._workspace: str | None = None

    async def workspace(self) -> str:
        """The Slack team id the bot token belongs to."""
        if self._workspace is None:
            self._workspace = (await self.call(self.client.auth_test))["team_id"]
        return self._workspace

    async def recorded(self, subject: str) -> ChatMessage | None:
        """The subject's message, if one was posted (or its channel, if one was created)."""
        return await messages.recorded(self._ctx, PLATFORM, await self.workspace(), subject)

    async def remember(self, subject: str, channel: str, ts: str, *, mention_id: int | None = None,
                       crisis_id: int | None = None, thread_ts: str | None = None) -> None:
        """Keep where the subject's message went, so later runs update it instead of posting it again."""
        await messages.remember(self._ctx, PLATFORM, await self.workspace(), subject, channel=channel, ts=ts,
                                mention_id=mention_id, crisis_id=crisis_id, thread_ts=thread_ts)

    async def upsert(self, job: OutboxJob, subject: str, mention_id: int | None, text: str,
                     blocks: list[dict[str, Any]], *, thread_ts: str | None, update: bool = True,
                     channel: str | None = None, crisis_id: int | None = None) -> bool:
        """Update the subject's message if posted, else post it; returns whether a new message was posted.

        The message goes to the triage channel unless `channel` names another; `crisis_id` marks a message in a
        crisis' own room, so that commands typed there act on that crisis.
        """
        channel = channel or self.triage
        existing = await self.recorded(subject)
        if existing is not None:
            if update:
                await self._update_turn(job)
                await self.call(self.client.chat_update, channel=existing.channel, ts=existing.ts, text=text,
                                blocks=blocks, final=True)
            return False
        ts = await self._find_earlier_post(channel, subject, thread_ts, job) if job.attempts > 1 else None
        if ts is None:
            burst = URGENT_BURST if job.priority <= URGENT else 0.0
            counted = await self._pacer.wait(channel, job.priority, ahead=burst)
            wait = await messages.next_slot(self._ctx, f"{PLATFORM}:{channel}", POST_SPACING, burst)
            self._pacer.postpone(channel, counted, wait)
            await asyncio.sleep(wait)
            response = await self.call(
                self.client.chat_postMessage, idempotent=False, channel=channel, text=text, blocks=blocks,
                thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, final=True,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"subject": subject}})
            ts = response["ts"]
        elif update:
            await self._update_turn(job)
            await self.call(self.client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks, final=True)
        await self.remember(subject, channel, ts, mention_id=mention_id, crisis_id=crisis_id, thread_ts=thread_ts)
        return True

    async def _update_turn(self, job: OutboxJob) -> None:
        """Wait for a chat.update's turn in the tier; a redraw nobody clicked for comes back later instead, so it
        never holds one of the relay's slots (a P1 card may need it) while it waits."""
        wait = self._updates.delay(UPDATE_KEY)
        if wait > 0 and job.priority > PEOPLE_FIRST:
            raise RetryLater("chat.update is at its tier's pace", delay=wait, count_attempt=False)
        await self._updates.wait(UPDATE_KEY, job.priority)

    async def _find_earlier_post(self, channel: str, subject: str, thread_ts: str | None,
                                 job: OutboxJob) -> str | None:
        """After an attempt whose outcome is unknown (crash, timeout), find the message it may have posted."""
        oldest = (job.created_at - timedelta(minutes=1)).timestamp()
        cursor = None
        while True:
            kwargs: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200,
                                      "oldest": f"{oldest:.6f}", "cursor": cursor}
            if thread_ts is None:
                response = await self.call(self.client.conversations_history, **kwargs)
            else:
                response = await self.call(self.client.conversations_replies, ts=thread_ts, **kwargs)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                if (metadata.get("event_type") == METADATA_TYPE
                        and metadata.get("event_payload", {}).get("subject") == subject):
                    logger.info("slack: %s was already posted before a restart; adopting it", subject)
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def _counting_429s(self, fn: Any) -> Any:
        """`fn`, counting each time Slack answers it with 429 (for /metrics: it should not happen)."""

        @functools.wraps(fn)
        async def counted(**kwargs: Any) -> Any:
            try:
                return await fn(**kwargs)
            except SlackApiError as exc:
                if calls.was_refused(exc):
                    self._ctx.metrics.rate_limited.labels(platform=PLATFORM).inc()
                raise

        return counted

    async def call(self, fn: Any, *, idempotent: bool = True, final: bool = False, **kwargs: Any) -> Any:
        """Call Slack; a transient failure sends the job back to the outbox (a post's next attempt looks first).

        With `final`, Slack refusing the call (other than the token) gives the job up: it would refuse it again.
        """
        try:
            return await calls.call(self._counting_429s(fn), idempotent=idempotent, **kwargs)
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

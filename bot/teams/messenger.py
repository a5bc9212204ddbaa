"""Outbox senders for Teams: post cards as new threads, update them in place, post drafts and notices."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationParameters, ErrorResponseException
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import ClientRequestError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.metrics import Metrics
from bot.models import ChatMessage, OutboxJob
from bot.outbox import RetryLater, Sender
from bot.settings import Settings
from bot.teams.adapter import connector_client
from bot.teams.crisis_messenger import TeamsCrisisMessenger
from bot.teams.pacing import CONVERSATION_WINDOWS, TENANT_WINDOWS, Pacer
from bot.teams.render import render_card, render_draft, render_escalation_notice
from handlers.cards import card_view, draft_view, escalation_notice
from handlers.context import Context

logger = logging.getLogger(__name__)

PLATFORM = "teams"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
RETRIED_STATUSES = frozenset({412, 429, 502, 504})
ATTEMPTS = 4


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ErrorResponseException) and _status(exc) in RETRIED_STATUSES


def _wait(state: RetryCallState) -> float:
    asked = _retry_after(state.outcome.exception() if state.outcome else None)
    return asked if asked is not None else min(8.0, 0.5 * 2 ** state.attempt_number) * random.uniform(0.5, 1.0)


def card_activity(card: dict[str, Any], activity_id: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card."""
    return Activity(type="message", id=activity_id, attachments=[Attachment(content_type=CARD_TYPE, content=card)])


class TeamsMessenger:
    """Sends what the outbox asks for to the Teams triage channel and the cards' threads."""

    def __init__(self, adapter: CloudAdapter, settings: Settings, ctx: Context, metrics: Metrics) -> None:
        self._adapter, self._settings, self._db, self._config = adapter, settings, ctx.db, ctx.config
        self._metrics, self._clock = metrics, ctx.clock
        self._clients: dict[str, ConnectorClient] = {}
        self._conversations = Pacer(CONVERSATION_WINDOWS)
        self._tenants = Pacer(TENANT_WINDOWS)
        self._crises = TeamsCrisisMessenger(self, ctx)

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds this messenger handles."""
        return {"teams.card": self.sync_card, "teams.draft": self.sync_draft, "teams.notice": self.post_notice,
                **self._crises.senders()}

    async def target(self) -> tuple[str, str, str]:
        """(service URL, tenant, channel id) of the triage channel: configured, or learned on install."""
        s = self._settings
        if s.teams_triage_channel and s.teams_service_url:
            return s.teams_service_url, s.teams_tenant_id or "", s.teams_triage_channel
        async with self._db.uow() as uow:
            learned = await uow.channels.latest(PLATFORM)
        if learned is None:
            raise RetryLater("no Teams channel yet: install the bot in a team or set TEAMS_TRIAGE_CHANNEL", delay=30,
                             count_attempt=False)
        return learned.service_url, learned.workspace, learned.channel

    async def sync_card(self, job: OutboxJob) -> None:
        """Post the mention's card as a new thread, or update it in place."""
        mention_id = job.mention_id or 0
        async with self._db.uow() as uow:
            view = await card_view(uow, self._config, mention_id, self._clock())
        departments = [self._config.department_view(key) for key in self._config.departments]
        card = render_card(view, departments)
        service_url, tenant, channel = await self.target()
        async with self._db.uow() as uow:
            existing = await uow.messages.get(PLATFORM, tenant, f"card:{mention_id}")
        if existing is not None:
            await self.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        conversation, activity_id = await self.start_thread(service_url, tenant, channel, card)
        await self.remember(tenant, f"card:{mention_id}", mention_id, conversation, activity_id)
        self._metrics.posted.labels(platform=PLATFORM).inc()

    async def start_thread(self, service_url: str, tenant: str, channel: str, card: dict[str, Any]) -> tuple[str, str]:
        """Post a card as a new thread in the channel; return the thread's conversation id and the post's id."""
        bot = ChannelAccount(id=f"28:{self._settings.microsoft_app_id}") if self._settings.microsoft_app_id else None
        parameters = ConversationParameters(is_group=True, channel_data={"channel": {"id": channel}},
                                            activity=card_activity(card), tenant_id=tenant or None, bot=bot)
        created = await self.send(service_url, tenant, channel,
                                  lambda c: c.conversations.create_conversation(parameters))
        return created.id, created.activity_id

    async def update(self, service_url: str, tenant: str, conversation: str, activity_id: str,
                     card: dict[str, Any]) -> None:
        """Replace a posted card in place."""
        await self.send(service_url, tenant, conversation, lambda c: c.conversations.update_activity(
            conversation, activity_id, card_activity(card, activity_id)))

    async def post_in(self, service_url: str, tenant: str, conversation: str, card: dict[str, Any]) -> str:
        """Post a card in a conversation (a thread: `<channel>;messageid=<root>`); return its id."""
        sent = await self.send(service_url, tenant, conversation,
                               lambda c: c.conversations.send_to_conversation(conversation, card_activity(card)))
        return sent.id

    async def sync_draft(self, job: OutboxJob) -> None:
        """Post or update a draft in the card's thread."""
        draft_id = int(job.payload["draft_id"])
        async with self._db.uow() as uow:
            draft = await uow.drafts.get(draft_id)
        if draft is None:
            return
        await self._in_thread(job, f"draft:{draft_id}", render_draft(draft_view(self._config, draft)), update=True)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a one-off notice (an escalation pinging heads) in the card's thread."""
        if job.payload.get("kind") != "escalation":
            raise ValueError(f"unknown notice kind {job.payload.get('kind')!r}")
        card = render_escalation_notice(escalation_notice(self._config, job.mention_id or 0, job.payload))
        await self._in_thread(job, f"notice:{job.key.split(':', 2)[2]}", card, update=False)

    async def _in_thread(self, job: OutboxJob, subject: str, card: dict[str, Any], *, update: bool) -> None:
        service_url, tenant, _channel = await self.target()
        async with self._db.uow() as uow:
            thread = await uow.messages.get(PLATFORM, tenant, f"card:{job.mention_id}")
            existing = await uow.messages.get(PLATFORM, tenant, subject)
        if thread is None:
            raise RetryLater("the card is not posted yet", delay=1.0, count_attempt=False)
        if existing is not None:
            if update:
                await self.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        sent = await self.post_in(service_url, tenant, thread.channel, card)
        await self.remember(tenant, subject, job.mention_id, thread.channel, sent)

    async def remember(self, tenant: str, subject: str, mention_id: int | None, conversation: str, ts: str, *,
                       crisis_id: int | None = None) -> None:
        """Keep where a message went, so later runs update it instead of posting it again."""
        async with self._db.uow() as uow:
            await uow.messages.add(ChatMessage(platform=PLATFORM, workspace=tenant, subject=subject,
                                               mention_id=mention_id, crisis_id=crisis_id, channel=conversation,
                                               ts=ts, posted_at=self._clock()))
            await uow.commit()

    async def send(self, service_url: str, tenant: str, conversation: str,
                   call: Callable[[ConnectorClient], Awaitable[Any]]) -> Any:
        """One Bot Connector call, paced, retried on 429/412/502/504 with jitter (Retry-After first)."""
        client = self._clients.get(service_url) or await connector_client(
            self._adapter, self._settings.microsoft_app_id, service_url)
        self._clients[service_url] = client
        try:
            async for attempt in AsyncRetrying(retry=retry_if_exception(_is_transient), wait=_wait,
                                               stop=stop_after_attempt(ATTEMPTS), reraise=True):
                with attempt:
                    await self._conversations.wait(conversation.split(";")[0])
                    await self._tenants.wait(tenant)
                    return await call(client)
        except ErrorResponseException as exc:
            if _is_transient(exc) or (_status(exc) or 0) >= 500:
                raise RetryLater(f"Teams {_status(exc)}", delay=_retry_after(exc) or 10.0) from None
            raise
        except ClientRequestError as exc:
            raise RetryLater(f"Teams unreachable ({type(exc).__name__})", delay=5.0) from None
        raise AssertionError("unreachable")  # pragma: no cover

"""Posting on Teams for the outbox: start threads, reply in them, update cards in place, each subject at most once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationParameters, ErrorResponseException
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import ClientRequestError

from bot.chat.pacing import Pacer
from bot.chat.retry import Retries, parse_retry_after, retrying
from bot.outbox.jobs import started_subject
from bot.outbox.relay import GiveUp, RetryLater
from bot.settings import Settings
from bot.storage.models import ChatMessage
from bot.teams.adapter import connector_client
from bot.teams.bot import TEAM_KEY
from bot.teams.escape import clip
from bot.teams.graph import ChannelPosts, GraphBusy, GraphUnavailable, mark
from bot.teams.ids import PLATFORM
from handlers import messages
from handlers.context import Context

logger = logging.getLogger(__name__)

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
RETRIED_STATUSES = frozenset({412, 429, 502, 504})
RETRIES = Retries(attempts=4, base_wait=1.0, max_wait=8.0, jitter=True)
CONVERSATION_WINDOWS = ((7, 1.0), (60, 30.0), (1800, 3600.0))  # Teams' limits per conversation
TENANT_WINDOWS = ((30, 1.0),)  # and per tenant
# Kept by every process on the database together: 0.6 s apart with bursts of up to 3 s ahead stays within 7/s and
# 60 per 30 s; the hourly window is kept by each process alone.
CONVERSATION_SPACING, CONVERSATION_BURST = 0.6, 3.0
CREDENTIALS_DELAY = 60.0  # the bot's credentials were refused: people can fix that without the job changing
REFUSAL_LIMIT = 120  # characters of Teams' own words quoted when it refuses a post
CLOCK_SKEW = timedelta(minutes=5)  # between our clock and Teams' message times
KEEP_LOOKING = timedelta(minutes=10)  # while Graph is busy, wait rather than post again; after this, post


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return parse_retry_after(headers.get("Retry-After"))


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ErrorResponseException) and _status(exc) in RETRIED_STATUSES


def _refusal(exc: ErrorResponseException) -> str:
    """Teams' short word for why it refused a call (its error code, else the start of its message)."""
    error = getattr(getattr(exc, "error", None), "error", None)
    said = getattr(error, "code", None) or getattr(error, "message", None) or "refused"
    return clip(" ".join(str(said).split()), REFUSAL_LIMIT)


def card_activity(card: dict[str, Any], activity_id: str | None = None) -> Activity:
    """A message activity carrying one Adaptive Card."""
    return Activity(type="message", id=activity_id, attachments=[Attachment(content_type=CARD_TYPE, content=card)])


class TeamsPoster:
    """Sends the bot's cards to the Teams triage channel and its threads, and keeps where each subject's card went."""

    def __init__(self, adapter: CloudAdapter, settings: Settings, ctx: Context) -> None:
        self._adapter, self._settings, self._ctx, self._clock = adapter, settings, ctx, ctx.clock
        self._clients: dict[str, ConnectorClient] = {}
        self._conversations = Pacer(CONVERSATION_WINDOWS)
        self._tenants = Pacer(TENANT_WINDOWS)
        password = settings.microsoft_app_password
        self._posts = ChannelPosts(settings.microsoft_app_id, password.get_secret_value(), settings.microsoft_graph_url,
                                   settings.microsoft_login_url) if settings.microsoft_app_id and password else None
        self._said: set[str] = set()

    async def target(self) -> tuple[str, str, str]:
        """(service URL, tenant, channel id) of the triage channel: configured, or learned on install."""
        s = self._settings
        if s.teams_triage_channel and s.teams_service_url:
            return s.teams_service_url, s.teams_tenant_id or "", s.teams_triage_channel
        learned = await messages.learned_channel(self._ctx, PLATFORM)
        if learned is None:
            raise RetryLater("no Teams channel yet: install the bot in a team or set TEAMS_TRIAGE_CHANNEL", delay=30,
                             count_attempt=False)
        return learned.service_url, learned.workspace, learned.channel

    async def start_thread(self, service_url: str, tenant: str, channel: str, card: dict[str, Any], *,
                           subject: str | None = None, priority: int = 0) -> tuple[str, str]:
        """Post a card as a new thread in the channel; return the thread's conversation id and the post's id.

        With a `subject`, the post is made at most once: a post an earlier attempt made is adopted (and updated).
        The post waits for the channel's pace by its job's `priority` (see `bot.chat.pacing`).
        """
        if subject is not None:
            card = mark(card, _marker(subject))
            earlier = await self._earlier_post(tenant, subject, channel)
            if earlier is not None:
                conversation = f"{channel};messageid={earlier}"
                await self.update(service_url, tenant, conversation, earlier, card)
                return conversation, earlier
        bot = ChannelAccount(id=f"28:{self._settings.microsoft_app_id}") if self._settings.microsoft_app_id else None
        parameters = ConversationParameters(is_group=True, channel_data={"channel": {"id": channel}},
                                            activity=card_activity(card), tenant_id=tenant or None, bot=bot)
        created = await self.send(service_url, tenant, channel,
                                  lambda c: c.conversations.create_conversation(parameters), priority=priority)
        return created.id, created.activity_id

    async def update(self, service_url: str, tenant: str, conversation: str, activity_id: str,
                     card: dict[str, Any]) -> None:
        """Replace a posted card in place."""
        await self.send(service_url, tenant, conversation, lambda c: c.conversations.update_activity(
            conversation, activity_id, card_activity(card, activity_id)))

    async def post_in(self, service_url: str, tenant: str, conversation: str, card: dict[str, Any], *,
                      subject: str | None = None) -> str:
        """Post a card in a conversation (a thread: `<channel>;messageid=<root>`); return its id.

        With a `subject`, the post is made at most once, like `start_thread`'s.
        """
        if subject is not None:
            card = mark(card, _marker(subject))
            earlier = await self._earlier_post(tenant, subject, conversation)
            if earlier is not None:
                await self.update(service_url, tenant, conversation, earlier, card)
                return earlier
        sent = await self.send(service_url, tenant, conversation,
                               lambda c: c.conversations.send_to_conversation(conversation, card_activity(card)))
        return sent.id

    async def show(self, target: tuple[str, str, str], subject: str, card: dict[str, Any], *, priority: int) -> None:
        """Post the card as a new thread in the triage channel (`target`), remembered under `subject`, or update
        the one posted before."""
        service_url, tenant, channel = target
        existing = await self.recorded(tenant, subject)
        if existing is not None:
            await self.update(service_url, tenant, existing.channel, existing.ts, card)
            return
        conversation, activity_id = await self.start_thread(service_url, tenant, channel, card, subject=subject,
                                                            priority=priority)
        await self.remember(tenant, subject, None, conversation, activity_id)

    async def recorded(self, tenant: str, subject: str) -> ChatMessage | None:
        """The subject's card in this tenant, if one was posted."""
        return await messages.recorded(self._ctx, PLATFORM, tenant, subject)

    async def remember(self, tenant: str, subject: str, mention_id: int | None, conversation: str, ts: str, *,
                       crisis_id: int | None = None) -> None:
        """Keep where a message went, so later runs update it instead of posting it again."""
        await messages.remember(self._ctx, PLATFORM, tenant, subject, channel=conversation, ts=ts,
                                mention_id=mention_id, crisis_id=crisis_id)

    async def _earlier_post(self, tenant: str, subject: str, conversation: str) -> str | None:
        """Note that a post of `subject` starts; if one started before (its answer lost), find what it posted."""
        started = await messages.note_start(self._ctx, PLATFORM, tenant, started_subject(subject), conversation)
        if started is None:
            return None
        channel, _, root = conversation.partition(";messageid=")
        return await self._look_for(tenant, subject, channel, root or None, started.posted_at)

    async def _look_for(self, tenant: str, subject: str, channel: str, root: str | None,
                        started: datetime) -> str | None:
        """The message an earlier attempt posted, or None: none was posted, or Graph cannot tell (then say so once)."""
        team = self._settings.teams_team_id or await self._learned_team(tenant)
        if self._posts is None or not team:
            self._cannot_look("no Microsoft app credentials to read Graph with" if self._posts is None
                              else "the team's id is unknown: set TEAMS_TEAM_ID to its Entra group id, or add "
                                   "the app to the team again so it learns it")
            return None
        try:
            found = await self._posts.find(tenant, team, channel, _marker(subject), started - CLOCK_SKEW, root=root)
        except GraphUnavailable as exc:
            self._cannot_look(f"{exc}; is the app installed with ChannelMessage.Read.Group consent?")
            return None
        except GraphBusy as exc:
            if self._clock() - started < KEEP_LOOKING:
                raise RetryLater(f"looking for an earlier post of {subject}: {exc}",
                                 delay=exc.retry_after or 10.0) from None
            self._cannot_look(f"{exc}, for over {KEEP_LOOKING.total_seconds() / 60:.0f} minutes")
            return None
        if found is not None:
            logger.info("teams: %s was posted by an attempt whose answer was lost; adopting message %s", subject, found)
        return found

    async def _learned_team(self, tenant: str) -> str | None:
        """The Entra group id of the team the bot was last installed in (in this tenant), if the install said it."""
        learned = await messages.learned_channel(self._ctx, PLATFORM)
        team = learned.reference.get(TEAM_KEY) if learned is not None and learned.workspace == tenant else None
        return team if isinstance(team, str) and team else None

    def _cannot_look(self, reason: str) -> None:
        """Post again rather than risk a missing card (a lost answer may then show one twice); say why once."""
        if reason not in self._said:
            self._said.add(reason)
            logger.warning("teams: cannot look for posts whose answer was lost, so such a post is made again and may "
                           "show twice: %s", reason)

    async def send(self, service_url: str, tenant: str, conversation: str,
                   call: Callable[[ConnectorClient], Awaitable[Any]], *, priority: int = 0) -> Any:
        """One Bot Connector call, paced, retried on 429/412/502/504 with jitter (Retry-After first).

        Teams refusing the call for good (another 4xx: a bad or oversized card, a conversation gone) gives the job up;
        refused credentials (401, or the login refusing them) are retried after a while, as people can fix them.
        """
        client = self._clients.get(service_url) or await connector_client(
            self._adapter, self._settings.microsoft_app_id, service_url)
        self._clients[service_url] = client
        try:
            async for attempt in retrying(RETRIES, transient=_is_transient, asked=_retry_after):
                with attempt:
                    key = conversation.split(";")[0]
                    counted = await self._conversations.wait(key, priority)
                    await self._tenants.wait(tenant, priority)
                    wait = await messages.next_slot(self._ctx, f"{PLATFORM}:{key}", CONVERSATION_SPACING,
                                                    CONVERSATION_BURST)
                    self._conversations.postpone(key, counted, wait)
                    await asyncio.sleep(wait)
                    try:
                        return await call(client)
                    except ErrorResponseException as exc:
                        if _status(exc) == 429:
                            self._ctx.metrics.rate_limited.labels(platform=PLATFORM).inc()
                        raise
        except ErrorResponseException as exc:
            status = _status(exc) or 0
            if _is_transient(exc) or status >= 500 or status == 408:
                raise RetryLater(f"Teams {status}", delay=_retry_after(exc) or 10.0) from None
            if status == 401:
                raise RetryLater("Teams refused the bot's credentials (401)", delay=CREDENTIALS_DELAY) from None
            if 400 <= status < 500:
                raise GiveUp(f"Teams refused the post ({status}: {_refusal(exc)})") from None
            raise
        except PermissionError:  # botframework's word for the login refusing the app id or password
            raise RetryLater("the Microsoft login refused the bot's credentials", delay=CREDENTIALS_DELAY) from None
        except ClientRequestError as exc:
            raise RetryLater(f"Teams unreachable ({type(exc).__name__})", delay=5.0) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _marker(subject: str) -> str:
    """The id of the hidden element that marks a posted card as the subject's."""
    return f"webcare:{subject}"


"""The Slack edge assembled: Bolt app, Web API client, listeners, outbox senders, HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.http.body import Unreadable, read_body
from bot.logs import excerpt
from bot.metrics import Metrics
from bot.outbox.relay import Sender
from bot.settings import Settings
from bot.slack import calls, listeners
from bot.slack.crisis_senders import CrisisSenders
from bot.slack.daily_senders import DailySenders
from bot.slack.digest_senders import DigestSenders
from bot.slack.poster import SlackPoster
from bot.slack.senders import MentionSenders
from bot.slack.sla_senders import ReminderSenders
from bot.slack.spike_senders import SpikeSenders
from bot.slack.storm_senders import StormSenders
from handlers.bus import Bus

logger = logging.getLogger(__name__)

MAX_SLACK_BODY = 256 * 1024


def _refused(status: int, code: str, message: str, *, why: str | None = None) -> web.Response:
    """The JSON refusal, and one log line saying what was refused and why (never the body)."""
    logger.info("slack: refused %d %s: %s", status, code, excerpt(why or message))
    return web.json_response({"error": code, "message": message}, status=status)


def _signed(verifier: SignatureVerifier, body: str, headers: Mapping[str, str]) -> bool:
    """Slack's signature over the raw body is valid and recent (junk in the headers is simply not valid)."""
    try:
        return verifier.is_valid_request(body, headers)
    except (ValueError, TypeError):  # e.g. a timestamp that is not a number
        return False


def _shape_problem(body: object) -> str | None:
    """Why a signed, parsed body cannot be a Slack event, interaction or slash command (None if it can be).

    The envelope Bolt and the listeners read without checking: a malformed one is refused here, before
    Bolt authorises it or a listener fails on it.
    """
    if not isinstance(body, dict):
        return f"the payload is a JSON {type(body).__name__}, not an object"
    if "command" in body:
        missing = [k for k in ("command", "user_id", "channel_id", "team_id") if not isinstance(body.get(k), str)]
        return f"a slash command without {', '.join(missing)}" if missing else None
    kind = body.get("type")
    if not isinstance(kind, str):
        return "the payload has no type"
    if kind == "event_callback":
        event = body.get("event")
        return None if isinstance(event, dict) and isinstance(event.get("type"), str) else "an event without a type"
    if kind in _INTERACTIONS:
        if not isinstance(body.get("user"), dict) or not isinstance(body["user"].get("id"), str):
            return f"{kind} without a user"
        for key, check in _INTERACTIONS[kind].items():
            if not check(body.get(key)):
                return f"{kind} with a malformed {key}"
    return None


def _actions(value: object) -> bool:
    return bool(value) and isinstance(value, list) and all(
        isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in value)


def _view(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("callback_id"), str)


_INTERACTIONS: dict[str, dict[str, Callable[[object], bool]]] = {
    "block_actions": {"actions": _actions},
    "view_submission": {"view": _view},
    "view_closed": {"view": _view},
    "shortcut": {}, "message_action": {},
}


class SlackEdge:
    """Everything Slack-specific the composition root needs."""

    def __init__(self, settings: Settings, bus: Bus, metrics: Metrics) -> None:
        assert settings.slack_bot_token is not None
        self._settings = settings
        self.client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                     base_url=settings.slack_api_url, retry_handlers=[])
        signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        self.socket_mode = settings.slack_app_token is not None
        # HTTP requests are verified in `handle` before Bolt parses them (Bolt would log a refused body verbatim).
        self._verifier = SignatureVerifier(signing) if signing else None
        self.app = AsyncApp(client=self.client, signing_secret=signing or "", request_verification_enabled=False,
                            process_before_response=False)
        listeners.register(self.app, bus)
        self.senders: dict[str, Sender] | None = None  # the outbox job kinds it posts, with a triage channel
        if settings.slack_triage_channel:
            poster = SlackPoster(self.client, bus.ctx, settings.slack_triage_channel)
            self.senders = {**MentionSenders(poster, bus.ctx, metrics).senders(),
                            **CrisisSenders(poster, bus.ctx).senders(), **SpikeSenders(poster, bus.ctx).senders(),
                            **StormSenders(poster, bus.ctx).senders(), **DigestSenders(poster, bus.ctx).senders(),
                            **DailySenders(poster, bus.ctx).senders(), **ReminderSenders(poster, bus.ctx).senders()}

    async def handle(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: one Request URL for events, interactivity and slash commands.

        The signature is checked on the raw body before anything parses it; what is refused is logged in one
        line saying why, never with the body.
        """
        try:
            raw = await read_body(request, MAX_SLACK_BODY)
        except Unreadable as exc:
            return _refused(exc.status, exc.code, exc.message)
        if self._verifier is None:
            return _refused(503, "slack_disabled", "Slack requests are off: set SLACK_SIGNING_SECRET.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refused(400, "invalid_payload", "The body is not UTF-8.")
        if not _signed(self._verifier, text, request.headers):
            return _refused(401, "invalid_signature", "Missing, stale or invalid Slack signature.")
        if request.headers.get("X-Slack-Retry-Num"):
            # Slack re-sends an event it thinks we missed; the first delivery was (or is being)
            # handled, so answering again would do its effect twice.
            return web.Response(status=200, headers={"X-Slack-No-Retry": "1"})
        try:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # Bolt parses, then reads ids
            return _refused(400, "invalid_payload", "The body is not a Slack payload.",
                            why=f"unreadable {request.content_type} body ({type(exc).__name__})")
        if problem := _shape_problem(bolt_request.body):
            return _refused(400, "invalid_payload", "The body is not a Slack payload.", why=problem)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep the Socket Mode connection open while the server runs (no-op in HTTP mode)."""
        if not self.socket_mode:
            yield
            return
        assert self._settings.slack_app_token is not None
        app_token = self._settings.slack_app_token.get_secret_value()
        handler = AsyncSocketModeHandler(self.app, app_token)
        try:
            # Ask for the first URL ourselves: the SDK would retry a refused app token forever, and the
            # server would hang at start without saying why.
            try:
                opened = await calls.call(self.client.apps_connections_open, app_token=app_token)
            except SlackApiError as exc:
                logger.error("slack: apps.connections.open failed (%s); Socket Mode needs SLACK_APP_TOKEN to be "
                             "an app-level token (xapp-…) with the connections:write scope", exc.response.get("error"))
                raise
            handler.client.wss_uri = opened["url"]
            await handler.connect_async()
            logger.info("slack: connected over Socket Mode")
            yield
        finally:
            await handler.close_async()

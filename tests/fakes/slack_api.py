"""Local fake of the Slack Web API and Socket Mode: Slack's wire format on a real socket, recorded calls, faults."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from tests.fakes.local_server import LocalServer
from tests.fakes.slack_socket import DEFAULT_APP_TOKEN, SocketClient, SocketMode

DEFAULT_TOKEN = "xoxb-fake-token"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"
MAX_BLOCKS = 50
MAX_TEXT = 40_000

Params = dict[str, Any]
Reply = dict[str, Any]

_TS_EPOCH = 1_732_200_000
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")
_FLAG_FIELDS = ("unfurl_links", "unfurl_media", "reply_broadcast", "mrkdwn")
_STATUS_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")  # lowercase letters, digits, hyphens and underscores
MAX_CHANNEL_NAME = 80
_APP_LEVEL_METHODS = frozenset({"apps.connections.open"})  # called with the app-level (xapp-) token


class SlackError(Exception):
    """An `{"ok": false, "error": …}` answer, raised by a method handler."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int = 200
    error: str = ""
    retry_after: int | None = None
    drop: bool = False  # perform the call, then abort the connection without answering


class SlackFake(LocalServer):
    """Slack Web API served on 127.0.0.1; pass `url` as `base_url` to `AsyncWebClient`.

    Every request is recorded in `calls` (token removed), including rejected and faulted ones.
    Socket Mode: `apps.connections.open` (with `app_token`) hands out a `ws://` URL on the same port;
    `socket_send` pushes an envelope to the connected app and returns its acknowledgement.
    """

    def __init__(self, *, token: str = DEFAULT_TOKEN, app_token: str = DEFAULT_APP_TOKEN, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.token = token
        self.tokens: set[str] = {token}
        self.app_token = app_token
        self.calls: list[tuple[str, Params]] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._replies: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._post_times: dict[str, list[float]] = defaultdict(list)
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._ts_seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._socket = SocketMode()
        self._methods: dict[str, Callable[[Params], Reply]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._socket.open_connection,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "conversations.history": self._history,
            "conversations.replies": self._replies_of,
            "users.info": self._users_info,
            "conversations.create": self._create_channel,
            "conversations.invite": self._invite,
        }
        self.channel_names: dict[str, str] = {}  # name → id, of channels created (or taken beforehand)
        self.members: dict[str, set[str]] = defaultdict(set)
        self.private_channels: set[str] = set()  # ids of channels created with `is_private` (members only)
        # When set, conversations.create answers this error (e.g. "restricted_action": admins only).
        self.refuse_channel_creation: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """Build the aiohttp application serving `/api/{method}` and the Socket Mode WebSocket."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._socket.install(app)
        return app

    def _base_url(self, host: str, port: int) -> str:
        self._socket.origin = f"ws://{host}:{port}"
        return f"http://{host}:{port}/api/"

    # -- test helpers ----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Params]:
        """Return the params of every call to `method`, in order."""
        return [params for name, params in self.calls if name == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Return the channel's messages as they are now (thread replies included), oldest first."""
        return [copy.deepcopy(m) for m in self._channels.get(channel, {}).values()]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Return a thread's parent and replies, oldest first."""
        stored = self._channels.get(channel, {})
        return [copy.deepcopy(stored[t]) for t in (ts, *self._replies.get((channel, ts), ())) if t in stored]

    def post_times(self, channel: str) -> list[float]:
        """Return the `time.monotonic()` of each accepted `chat.postMessage` to `channel`."""
        return list(self._post_times.get(channel, ()))

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` with a failure instead of performing them.

        Without `status`, an `error` is answered with HTTP 200 (`ok: false`), and no `error` means 429.
        A 429 carries `Retry-After` (default 1 second).
        """
        status = status or (200 if error else 429)
        error = error or _STATUS_ERRORS.get(status, "fatal_error")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults[method].extend([_Fault(status, error, retry_after)] * times)

    def take_channel_name(self, name: str) -> str:
        """Make a channel name taken, as if someone had created that channel; returns its id."""
        channel = f"C{next(self._ids):09d}"
        self.channel_names[name] = channel
        return channel

    def channel_named(self, name: str) -> str | None:
        """The id of the channel with this name, if it exists."""
        return self.channel_names.get(name)

    def accept_then_drop(self, method: str, *, times: int = 1) -> None:
        """Perform the next `times` calls to `method`, then abort the connection without answering."""
        self._faults[method].extend([_Fault(drop=True)] * times)

    @property
    def socket_clients(self) -> list[SocketClient]:
        """Every Socket Mode connection the app opened, oldest first (closed ones included)."""
        return self._socket.clients

    async def socket_connected(self, *, timeout: float = 5.0) -> SocketClient:
        """Wait until the app holds an open Socket Mode connection and return the newest."""
        return await self._socket.connected(timeout)

    async def socket_send(self, payload_type: str, payload: dict[str, Any], *, timeout: float = 5.0,
                          accepts_response_payload: bool | None = None) -> dict[str, Any]:
        """Push an `interactive`, `slash_commands` or `events_api` envelope and return the app's ack.

        The ack is what the app sent back for this envelope_id (`{"envelope_id": …, "payload": …}`);
        `TimeoutError` when none arrives within `timeout` seconds.
        """
        return await self._socket.send(payload_type, payload, timeout=timeout,
                                       accepts_response_payload=accepts_response_payload)

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send `disconnect` to every open connection, as Slack does a few seconds before it drops them."""
        await self._socket.disconnect(reason)

    # -- wire ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, token = await _read_params(request)
        if method in _APP_LEVEL_METHODS and not request.headers.get("Authorization"):
            token = None  # Slack takes an app-level token only from the Authorization header
        self.calls.append((method, copy.deepcopy(params)))
        fault = self._faults[method].popleft() if self._faults[method] else None
        if fault is not None and not fault.drop:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status, headers=headers)
        reply = self._answer(method, token, params)
        if fault is not None and request.transport is not None:
            request.transport.abort()
        return web.json_response(reply)

    def _answer(self, method: str, token: str | None, params: Params) -> Reply:
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        if not token:
            return {"ok": False, "error": "not_authed"}
        app_level = method in _APP_LEVEL_METHODS
        if token.startswith("xapp-") != app_level:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token not in ({self.app_token} if app_level else self.tokens):
            return {"ok": False, "error": "invalid_auth"}
        try:
            return {"ok": True, **handler(params)}
        except SlackError as e:
            return {"ok": False, "error": e.error}

    def _next_ts(self) -> str:
        micros = next(self._ts_seq) * 100
        return f"{_TS_EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _render(self, channel: str, message: dict[str, Any], *, metadata: bool) -> dict[str, Any]:
        out = copy.deepcopy(message)
        if not metadata:
            out.pop("metadata", None)
        replies = self._replies.get((channel, message["ts"]))
        if replies:
            out.update(thread_ts=message["ts"], reply_count=len(replies), latest_reply=replies[-1])
        return out

    # -- methods ---------------------------------------------------------------------------

    def _auth_test(self, p: Params) -> Reply:
        return {
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "webcare-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        _check_content(p, require=True)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "ts": ts,
            "text": str(p.get("text") or ""),
        }
        message.update({k: p[k] for k in ("blocks", "attachments", "metadata") if k in p})
        message.update({k: _flag(p[k]) for k in _FLAG_FIELDS if k in p})
        if thread_ts := p.get("thread_ts"):
            message["thread_ts"] = str(thread_ts)
            self._replies[(channel, str(thread_ts))].append(ts)
        self._channels[channel][ts] = message
        self._post_times[channel].append(time.monotonic())
        return {"channel": channel, "ts": ts, "message": self._render(channel, message, metadata=True)}

    def _update(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        message = self._channels.get(channel, {}).get(str(p.get("ts", "")))
        if message is None:
            raise SlackError("message_not_found")
        _check_content(p, require=False)
        message.update({k: p[k] for k in ("text", "blocks", "attachments", "metadata") if k in p})
        rendered = self._render(channel, message, metadata=True)
        return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": rendered}

    def _post_ephemeral(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        user = _required(p, "user", "user_not_found")
        _check_content(p, require=True)
        message_ts = self._next_ts()
        fields = {k: p.get(k) for k in ("text", "blocks", "thread_ts")}
        self.ephemerals.append({"channel": channel, "user": user, **fields, "message_ts": message_ts})
        return {"message_ts": message_ts}

    def _views_open(self, p: Params) -> Reply:
        _required(p, "trigger_id", "invalid_arguments")
        view_id = f"V{next(self._ids):09d}"
        self.views[view_id] = self._stored_view(view_id, _view(p))
        return {"view": copy.deepcopy(self.views[view_id])}

    def _views_update(self, p: Params) -> Reply:
        view_id = p.get("view_id") or next(
            (i for i, v in self.views.items() if p.get("external_id") and v.get("external_id") == p["external_id"]),
            None,
        )
        if view_id not in self.views:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != self.views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        self.views[view_id] = self._stored_view(view_id, _view(p))
        return {"view": copy.deepcopy(self.views[view_id])}

    def _stored_view(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        return {**view, "id": view_id, "team_id": TEAM_ID, "hash": f"{_TS_EPOCH}.h{next(self._ids)}"}

    def _history(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        oldest = _ts_bound(p.get("oldest"), Decimal(0), "invalid_ts_oldest")
        latest = _ts_bound(p.get("latest"), Decimal("Infinity"), "invalid_ts_latest")
        inclusive = _flag(p.get("inclusive"))
        top_level = [
            m
            for m in reversed(self._channels.get(channel, {}).values())
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("reply_broadcast")
        ]
        in_range = [
            m
            for m in top_level
            if (oldest <= Decimal(m["ts"]) <= latest if inclusive else oldest < Decimal(m["ts"]) < latest)
        ]
        return self._page(channel, in_range, p)

    def _replies_of(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        stored = self._channels.get(channel, {})
        ts = str(p.get("ts") or "")
        if ts not in stored:
            raise SlackError("thread_not_found")
        parent_ts = stored[ts].get("thread_ts", ts)
        thread = [stored[t] for t in (parent_ts, *self._replies.get((channel, parent_ts), ())) if t in stored]
        return self._page(channel, thread, p)

    def _page(self, channel: str, messages: list[dict[str, Any]], p: Params) -> Reply:
        limit = max(1, min(int(p.get("limit") or 100), 999))
        cursor = str(p.get("cursor") or "")
        if cursor and not cursor.startswith("offset:"):
            raise SlackError("invalid_cursor")
        start = int(cursor.removeprefix("offset:") or 0)
        page = messages[start : start + limit]
        has_more = start + limit < len(messages)
        metadata = _flag(p.get("include_all_metadata"))
        return {
            "messages": [self._render(channel, m, metadata=metadata) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if has_more else ""},
        }

    def _create_channel(self, p: Params) -> Reply:
        if self.refuse_channel_creation:
            raise SlackError(self.refuse_channel_creation)
        name = str(p.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > MAX_CHANNEL_NAME:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if name in self.channel_names:
            raise SlackError("name_taken")
        channel = self.take_channel_name(name)
        self.members[channel].add(BOT_USER_ID)
        private = _flag(p.get("is_private"))
        if private:
            self.private_channels.add(channel)
        return {"channel": {"id": channel, "name": name, "is_channel": not private, "is_group": private,
                            "is_private": private, "created": int(time.time()), "creator": BOT_USER_ID,
                            "is_member": True, "is_archived": False, "name_normalized": name}}

    def _invite(self, p: Params) -> Reply:
        channel = _required(p, "channel", "channel_not_found")
        if channel not in self.channel_names.values():
            raise SlackError("channel_not_found")
        users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("no_user")
        errors = []
        for user in users:
            if not _USER_ID.fullmatch(user):
                errors.append({"user": user, "ok": False, "error": "user_not_found"})
            elif user == BOT_USER_ID:
                errors.append({"user": user, "ok": False, "error": "cant_invite_self"})
            elif user in self.members[channel]:
                errors.append({"user": user, "ok": False, "error": "already_in_channel"})
        if errors and not _flag(p.get("force")):
            raise SlackError(errors[0]["error"])
        failed = {e["user"] for e in errors}
        self.members[channel].update(u for u in users if u not in failed)
        reply: Reply = {"channel": {"id": channel, "is_member": True}}
        return {**reply, "errors": errors} if errors else reply

    def _users_info(self, p: Params) -> Reply:
        user = str(p.get("user") or "")
        if not _USER_ID.fullmatch(user):
            raise SlackError("user_not_found")
        name = f"user-{user.lower()}"
        return {
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": f"User {user}",
                "deleted": False,
                "is_bot": user == BOT_USER_ID,
                "tz": "Europe/Amsterdam",
                "profile": {"real_name": f"User {user}", "display_name": name, "email": f"{name}@example.com"},
            }
        }


async def _read_params(request: web.Request) -> tuple[Params, str | None]:
    """Merge query, form or JSON body into one dict and take the token out of it."""
    params: Params = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    token = params.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):  # left as text: the validators reject it
                params[key] = json.loads(params[key])
    return params, token


def _required(p: Params, key: str, error: str) -> str:
    value = p.get(key)
    if not value:
        raise SlackError(error)
    return str(value)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _ts_bound(value: Any, default: Decimal, error: str) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else default
    except InvalidOperation:
        raise SlackError(error) from None


def _view(p: Params) -> dict[str, Any]:
    view = p.get("view")
    if not isinstance(view, dict) or "type" not in view:
        raise SlackError("invalid_arguments")
    return view


def _check_content(p: Params, *, require: bool) -> None:
    """Validate text, blocks and metadata the way Slack does where it is cheap."""
    text, blocks, metadata = p.get("text"), p.get("blocks"), p.get("metadata")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        if len(blocks) > MAX_BLOCKS or not all(isinstance(b, dict) and "type" in b for b in blocks):
            raise SlackError("invalid_blocks")
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if require and not text and not blocks and not p.get("attachments"):
        raise SlackError("no_text")
    if metadata is not None and not (isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)):
        raise SlackError("invalid_metadata_format")


async def _serve(port: int, token: str) -> None:
    async with SlackFake(token=token, port=port) as fake:
        print(fake.url, flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run the fake until interrupted, printing its URL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token the fake accepts")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.token))


if __name__ == "__main__":
    main()

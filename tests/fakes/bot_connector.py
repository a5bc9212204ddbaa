"""Local fake of the Bot Connector REST API (v3) as Teams serves it: real socket, recorded calls, state, faults.

It also serves the part of Microsoft Graph that reads the same channels back (`graph_url`): the channel
messages delta query, for teams registered with `add_team`, to apps granted resource-specific consent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import itertools
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from aiohttp import web

from tests.fakes.bot_auth import GRAPH_AUDIENCE, BotFrameworkAuthFake
from tests.fakes.graph_wire import GraphError, chat_message, delta_query
from tests.fakes.local_server import LocalServer

Activity = dict[str, Any]
Body = dict[str, Any]

OPERATIONS = ("create_conversation", "send_to_conversation", "reply_to_activity", "update_activity",
              "delete_activity", "get_conversation_member")  # the names of botbuilder's ConversationsOperations
GRAPH_DELTA = "graph_delta"  # GET {graph}/teams/{team}/channels/{channel}/messages/delta
NO_CONSENT = ("Missing role permissions on the request. API requires one of 'ChannelMessage.Read.All, "
              "ChannelMessage.Read.Group, Group.Read.All, Group.ReadWrite.All'. Roles on the request ''.")
_ID_EPOCH_MS = 1_732_200_000_000  # Teams message ids are epoch milliseconds
MESSAGE_LIMIT = 28 * 1024  # Teams refuses a message (activity, attachments included) over this many bytes
_ERROR_CODES = {400: "BadArgument", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                412: "PreconditionFailed", 413: "MessageSizeTooBig", 429: "Throttled", 500: "ServiceError",
                502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
DENIED = {"message": "Authorization has been denied for this request."}  # the connector's 401 body


@dataclass(frozen=True, slots=True)
class ConnectorCall:
    """One request as the fake received it; `status` is what it answered."""

    operation: str
    method: str
    path: str  # raw, percent-encoded as sent
    conversation_id: str | None  # decoded
    activity_id: str | None
    body: Any  # decoded JSON, or None
    authorization: str | None
    status: int


class ConnectorError(Exception):
    """An error answer (`{"error": {"code", "message"}}`), raised by an operation."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or _ERROR_CODES.get(status, "ServiceError")


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int = 429
    code: str = ""
    retry_after: int | None = None
    drop: bool = False  # perform the call, then abort the connection without answering
    stall: float = 0.0  # perform the call, then hold the answer this long and drop the connection


@dataclass(slots=True)
class _Message:
    activity: Activity
    root: str  # id of the thread's first message (itself for a top-level post)
    versions: list[Activity] = field(default_factory=list)
    sender: str | None = None  # the app id of the bot that posted it
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))


class BotConnectorFake(LocalServer):
    """Bot Connector v3 served on 127.0.0.1; put `url` in activities' `serviceUrl`.

    Messages live per channel (the part of a conversation id before `;messageid=`) under their
    message id, so `19:…@thread.tacv2` and `19:…@thread.tacv2;messageid=<root>` name the same
    channel, the latter one thread in it. Every request is recorded in `calls`, faulted and
    rejected ones included. With `require_auth=True` a request needs
    `Authorization: Bearer <access token issued by auth>`, else 401.
    """

    def __init__(self, *, auth: BotFrameworkAuthFake | None = None, require_auth: bool = False,
                 region: str = "amer", host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        if require_auth and auth is None:
            raise ValueError("require_auth needs the BotFrameworkAuthFake that issues the tokens")
        self.auth = auth
        self.require_auth = require_auth
        self.region = region
        self.message_limit = MESSAGE_LIMIT  # bytes of UTF-8 JSON per activity; a test may lower it
        self.calls: list[ConnectorCall] = []
        self.conversations: list[dict[str, Any]] = []  # every conversation created, with its parameters
        self.members: dict[str, dict[str, Any]] = {}
        self.graph_url = ""
        self.graph_calls: list[ConnectorCall] = []  # Graph requests; `body` holds the query
        self._teams: dict[str, tuple[set[str], bool]] = {}  # team (Entra group) id -> channels, consent granted
        self._sender: str | None = None
        self._closing = asyncio.Event()
        self._channels: dict[str, dict[str, _Message]] = defaultdict(dict)
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._operations: dict[str, Callable[[str | None, str | None, Body], Body]] = {
            "create_conversation": self._create_conversation,
            "send_to_conversation": self._send_to_conversation,
            "reply_to_activity": self._reply_to_activity,
            "update_activity": self._update_activity,
            "delete_activity": self._delete_activity,
            "get_conversation_member": self._get_member,
        }

    # -- lifecycle -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """Build the aiohttp application serving `/<region>/v3/conversations/…`."""
        base = f"/{self.region}/v3/conversations"
        app = web.Application()
        route = app.router.add_route
        route("POST", base, self._handler("create_conversation"))
        route("POST", base + "/{conversation_id}/activities", self._handler("send_to_conversation"))
        route("POST", base + "/{conversation_id}/activities/{activity_id}", self._handler("reply_to_activity"))
        route("PUT", base + "/{conversation_id}/activities/{activity_id}", self._handler("update_activity"))
        route("DELETE", base + "/{conversation_id}/activities/{activity_id}", self._handler("delete_activity"))
        route("GET", base + "/{conversation_id}/members/{member_id}", self._handler("get_conversation_member"))
        route("GET", "/v1.0/teams/{team_id}/channels/{channel_id}/messages/delta", self._graph_delta)
        return app

    async def start(self) -> str:
        """Listen, and return the Bot Connector's service URL; Graph is served at `graph_url`."""
        url = await super().start()
        self.graph_url = url.removesuffix(f"{self.region}/") + "v1.0/"
        return url

    async def close(self) -> None:
        """Drop the calls held by `accept_then_stall`, then stop listening."""
        self._closing.set()
        await super().close()

    def _base_url(self, host: str, port: int) -> str:
        return f"http://{host}:{port}/{self.region}/"

    # -- test helpers ----------------------------------------------------------------------

    def calls_to(self, operation: str) -> list[ConnectorCall]:
        """Return every call to `operation` (one of OPERATIONS), in order."""
        return [call for call in self.calls if call.operation == operation]

    def activity(self, conversation_id: str, activity_id: str) -> Activity | None:
        """Return a message as it is now (after updates), or None if there is none (or it was deleted)."""
        message = self._channels.get(_channel_of(conversation_id), {}).get(str(activity_id))
        return copy.deepcopy(message.activity) if message else None

    def versions(self, conversation_id: str, activity_id: str) -> list[Activity]:
        """Return every state a message had, first post first."""
        message = self._channels.get(_channel_of(conversation_id), {}).get(str(activity_id))
        return copy.deepcopy(message.versions) if message else []

    def posts(self, channel_id: str) -> list[Activity]:
        """Return the top-level posts (thread roots) the bot made in a channel, oldest first."""
        stored = self._channels.get(_channel_of(channel_id), {})
        return [copy.deepcopy(m.activity) for i, m in stored.items() if m.root == i]

    def thread(self, conversation_id: str, root_id: str | None = None) -> list[Activity]:
        """Return a thread's messages the bot posted (root first, then replies), oldest first.

        `conversation_id` may name the thread (`…;messageid=<root>`), or give `root_id` separately.
        """
        root = root_id or _thread_root(conversation_id)
        if root is None:
            raise ValueError("name the thread: a conversation id with ;messageid= or root_id")
        stored = self._channels.get(_channel_of(conversation_id), {})
        return [copy.deepcopy(m.activity) for m in stored.values() if m.root == root]

    def add_member(self, member: dict[str, Any]) -> None:
        """Make `GET …/members/{member["id"]}` answer with this TeamsChannelAccount."""
        self.members[member["id"]] = copy.deepcopy(member)

    def fail_next(self, operation: str, *, status: int = 429, retry_after: int | None = None, times: int = 1,
                  code: str | None = None) -> None:
        """Answer the next `times` calls to `operation` with `status` instead of performing them.

        A 429 carries `Retry-After` (default 1 second); other statuses carry it only when given.
        """
        _check_operation(operation)
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults[operation].extend([_Fault(status, code or _ERROR_CODES.get(status, "ServiceError"),
                                               retry_after)] * times)

    def accept_then_drop(self, operation: str, *, times: int = 1) -> None:
        """Perform the next `times` calls to `operation`, then abort the connection without answering."""
        _check_operation(operation)
        self._faults[operation].extend([_Fault(drop=True)] * times)

    def accept_then_stall(self, operation: str, seconds: float = 2.0) -> None:
        """Perform the next call to `operation`, hold the answer `seconds` (the caller may die), then drop it."""
        _check_operation(operation)
        self._faults[operation].append(_Fault(stall=seconds))

    def add_team(self, team_id: str, *channels: str, consent: bool = True) -> None:
        """Make Graph know the team (its Entra group id) and its channels; `consent`: the app was granted RSC."""
        self._teams[team_id] = ({_channel_of(c) for c in channels}, consent)

    # -- wire ------------------------------------------------------------------------------

    def _handler(self, operation: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(operation, request)

        return handle

    async def _handle(self, operation: str, request: web.Request) -> web.StreamResponse:
        conversation_id = request.match_info.get("conversation_id")
        activity_id = request.match_info.get("activity_id") or request.match_info.get("member_id")
        authorization = request.headers.get("Authorization")
        body: Any = None
        raw = await request.read() if request.can_read_body else b""
        if raw:
            with contextlib.suppress(ValueError):
                body = json.loads(raw)

        def record(status: int) -> None:
            self.calls.append(ConnectorCall(operation, request.method, request.raw_path, conversation_id,
                                            activity_id, copy.deepcopy(body), authorization, status))

        if self.require_auth and not self._authorized(authorization):
            record(401)
            return web.json_response(DENIED, status=401)
        fault = self._faults[operation].popleft() if self._faults[operation] else None
        if fault is not None and not (fault.drop or fault.stall):
            record(fault.status)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return _error(ConnectorError(fault.status, f"fault injected by the test ({fault.code})", fault.code),
                          headers)
        try:
            if request.method in ("POST", "PUT") and not isinstance(body, dict):
                raise ConnectorError(400, "The request body must be a JSON object.", "BadSyntax")
            self._check_size(operation, body)
            self._sender = self._app_of(authorization)
            answer = self._operations[operation](conversation_id, activity_id, body or {})
        except ConnectorError as exc:
            record(exc.status)
            return _error(exc)
        status = 201 if operation in ("create_conversation", "send_to_conversation", "reply_to_activity") else 200
        record(status)
        if fault is not None and fault.stall:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.stall)
        if fault is not None and request.transport is not None:  # accept_then_drop, accept_then_stall
            request.transport.abort()
        return web.json_response(answer, status=status)

    def _check_size(self, operation: str, body: Any) -> None:
        """Refuse a message over Teams' size limit as Teams does: 413 MessageSizeTooBig, nothing posted."""
        activity = body.get("activity") if operation == "create_conversation" and isinstance(body, dict) else body
        if operation == "get_conversation_member" or not isinstance(activity, dict):
            return
        if len(json.dumps(activity, separators=(",", ":"), ensure_ascii=False).encode()) > self.message_limit:
            raise ConnectorError(413, "Message size too large.", "MessageSizeTooBig")

    def _authorized(self, authorization: str | None, audience: str | None = None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        return (scheme == "Bearer" and self.auth is not None
                and self.auth.is_issued(token.strip(), *([audience] if audience else [])))

    def _app_of(self, authorization: str | None) -> str | None:
        token = (authorization or "").partition(" ")[2].strip()
        if self.auth is None or not token:
            return None
        try:
            return self.auth.verify_access_token(token).get("appid")
        except jwt.InvalidTokenError:
            return None

    # -- Graph -----------------------------------------------------------------------------

    async def _graph_delta(self, request: web.Request) -> web.Response:
        team, channel = request.match_info["team_id"], request.match_info["channel_id"]
        status, answer = 200, None
        try:
            answer = self._delta_page(request, team, channel)
        except GraphError as exc:
            status, answer = exc.status, exc
        self.graph_calls.append(ConnectorCall(GRAPH_DELTA, "GET", request.raw_path, channel, None, dict(request.query),
                                              request.headers.get("Authorization"), status))
        return answer.response() if isinstance(answer, GraphError) else web.json_response(answer)

    def _delta_page(self, request: web.Request, team: str, channel: str) -> Body:
        if self.require_auth and not self._authorized(request.headers.get("Authorization"), GRAPH_AUDIENCE):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        fault = self._faults[GRAPH_DELTA].popleft() if self._faults[GRAPH_DELTA] else None
        if fault is not None:
            raise GraphError(fault.status, fault.code, "fault injected by the test", fault.retry_after)
        known = self._teams.get(team)
        if known is None:
            raise GraphError(404, "NotFound", f"No team found with Group Id {team}")
        if not known[1]:
            raise GraphError(403, "Forbidden", NO_CONSENT)
        if _channel_of(channel) not in known[0]:
            raise GraphError(404, "NotFound", "Channel not found.")
        query: dict[str, str] = dict(request.query)
        offset = 0
        if "$skiptoken" in query:  # opaque to clients: the first request's query and where the next page starts
            try:
                saved = json.loads(base64.urlsafe_b64decode(query["$skiptoken"]))
                query, offset = dict(saved["q"]), int(saved["o"])
            except (ValueError, KeyError, TypeError):
                raise GraphError(400, "BadRequest", "Invalid skip token.") from None
        top, since, expand = delta_query(query)
        stored = self._channels.get(_channel_of(channel), {})
        chains = []
        for message_id, message in stored.items():
            if message.root != message_id:
                continue
            replies = [m for i, m in stored.items() if m.root == message_id and i != message_id]
            if since is not None and max([message.modified, *(r.modified for r in replies)]) <= since:
                continue
            shown = self._chat_message(message, team, channel)
            if expand:
                shown["replies"] = [self._chat_message(r, team, channel) for r in replies]
            chains.append(shown)
        page: Body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(chatMessage)",
                      "value": chains[offset:offset + top]}
        if offset + top < len(chains):
            token = base64.urlsafe_b64encode(json.dumps({"q": query, "o": offset + top}).encode()).decode()
            page["@odata.nextLink"] = str(request.url.with_query({"$skiptoken": token}))
        else:
            page["@odata.deltaLink"] = str(request.url.with_query({"$deltatoken": str(len(self.graph_calls))}))
        return page

    @staticmethod
    def _chat_message(message: _Message, team: str, channel: str) -> Body:
        return chat_message(message.activity, team=team, channel=_channel_of(channel), root=message.root,
                            sender=message.sender, created=message.created, modified=message.modified)

    def _next_id(self) -> str:
        return str(_ID_EPOCH_MS + next(self._ids) * 1000)

    def _store(self, channel: str, activity: Activity, *, conversation_id: str, root: str | None) -> str:
        if not isinstance(activity.get("type"), str) or not activity["type"]:
            raise ConnectorError(400, "Activity type is required.")
        message_id = self._next_id()
        stored = copy.deepcopy(activity)
        conversation = dict(stored.get("conversation") or {})
        if root:
            conversation["id"] = conversation_id
        else:  # a new post: in a channel it starts a thread, in a chat it is just the next message
            conversation["id"] = f"{channel};messageid={message_id}" if _is_channel(channel) else channel
        stored.update(id=message_id, conversation=conversation)
        if root and root != message_id:
            stored["replyToId"] = root
        message = _Message(stored, root or message_id, [copy.deepcopy(stored)], sender=self._sender)
        self._channels[channel][message_id] = message
        return message_id

    # -- operations ------------------------------------------------------------------------

    def _create_conversation(self, _conversation_id: str | None, _activity_id: str | None, p: Body) -> Body:
        channel = ((p.get("channelData") or {}).get("channel") or {}).get("id")
        activity = p.get("activity")
        if channel:
            if not isinstance(activity, dict):
                raise ConnectorError(400, "An activity is required to start a thread in a channel.")
            message_id = self._store(channel, activity, conversation_id=channel, root=None)
            conversation_id = f"{channel};messageid={message_id}"
            self.conversations.append({"id": conversation_id, "activityId": message_id, **copy.deepcopy(p)})
            return {"id": conversation_id, "activityId": message_id}
        members = p.get("members") or []
        if not members or not all(isinstance(m, dict) and m.get("id") for m in members):
            raise ConnectorError(400, "Either channelData.channel.id or members is required.")
        conversation_id = "a:1" + "".join(sorted(m["id"] for m in members)).replace(":", "").replace("-", "")[:40]
        answer: Body = {"id": conversation_id}
        if isinstance(activity, dict):
            answer["activityId"] = self._store(conversation_id, activity, conversation_id=conversation_id,
                                               root=None)
        self.conversations.append({**answer, **copy.deepcopy(p)})
        return answer

    def _send_to_conversation(self, conversation_id: str | None, _activity_id: str | None, p: Body) -> Body:
        assert conversation_id is not None
        root = _thread_root(conversation_id)
        channel = _channel_of(conversation_id)
        if root is None:  # a top-level post in the channel (or a message in a chat)
            return {"id": self._store(channel, p, conversation_id=channel, root=None)}
        return {"id": self._store(channel, p, conversation_id=conversation_id, root=root)}

    def _reply_to_activity(self, conversation_id: str | None, activity_id: str | None, p: Body) -> Body:
        assert conversation_id is not None and activity_id is not None
        channel = _channel_of(conversation_id)
        replied = self._channels[channel].get(activity_id)
        root = replied.root if replied else (_thread_root(conversation_id) or activity_id)
        return {"id": self._store(channel, p, conversation_id=f"{channel};messageid={root}", root=root)}

    def _update_activity(self, conversation_id: str | None, activity_id: str | None, p: Body) -> Body:
        assert conversation_id is not None and activity_id is not None
        message = self._channels[_channel_of(conversation_id)].get(activity_id)
        if message is None:
            raise ConnectorError(404, f"Activity {activity_id} was not found in the conversation.")
        if not isinstance(p.get("type"), str):
            raise ConnectorError(400, "Activity type is required.")
        updated = copy.deepcopy(p)
        updated.update(id=activity_id, conversation=message.activity["conversation"])
        if "replyToId" in message.activity:
            updated["replyToId"] = message.activity["replyToId"]
        message.activity = updated
        message.versions.append(copy.deepcopy(updated))
        message.modified = datetime.now(UTC)
        return {"id": activity_id}

    def _delete_activity(self, conversation_id: str | None, activity_id: str | None, _p: Body) -> Body:
        assert conversation_id is not None and activity_id is not None
        if self._channels[_channel_of(conversation_id)].pop(activity_id, None) is None:
            raise ConnectorError(404, f"Activity {activity_id} was not found in the conversation.")
        return {}

    def _get_member(self, _conversation_id: str | None, member_id: str | None, _p: Body) -> Body:
        member = self.members.get(member_id or "")
        if member is None:
            raise ConnectorError(404, "The member could not be found in the conversation.",
                                 "MemberNotFoundInConversation")
        return copy.deepcopy(member)


def _channel_of(conversation_id: str) -> str:
    return conversation_id.split(";", 1)[0]


def _is_channel(conversation_id: str) -> bool:
    return conversation_id.startswith("19:") and conversation_id.endswith(("@thread.tacv2", "@thread.skype"))


def _thread_root(conversation_id: str) -> str | None:
    _, _, rest = conversation_id.partition(";messageid=")
    return rest or None


def _check_operation(operation: str) -> None:
    if operation not in (*OPERATIONS, GRAPH_DELTA):
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join((*OPERATIONS, GRAPH_DELTA))}")


def _error(exc: ConnectorError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": exc.code, "message": exc.message}}, status=exc.status,
                             headers=headers)


async def _serve(port: int) -> None:
    async with BotConnectorFake(port=port) as fake:
        print(fake.url, flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run the fake until interrupted, printing its service URL (no auth required)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()

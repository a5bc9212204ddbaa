"""Slack's side of Socket Mode for the fake: `apps.connections.open` tickets, the WebSocket, envelopes out, acks in."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

APP_ID = "A0FAKEAPP1"
DEFAULT_APP_TOKEN = "xapp-1-A0FAKEAPP1-1-fakeapptoken"
PATH = "/socket"
# Which envelopes let the app answer with a payload, as Slack sends them (the events API never does).
_ACCEPTS_RESPONSE_PAYLOAD = {"slash_commands": True, "interactive": False, "events_api": False}
_RESPONDING_INTERACTIONS = ("view_submission", "block_suggestion")


@dataclass(eq=False)
class SocketClient:
    """One app connection: the ticket it came in with and every message it sent on the socket."""

    ticket: str
    ws: web.WebSocketResponse = field(repr=False)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        """The socket is still open."""
        return not self.ws.closed


class SocketMode:
    """Hands out WebSocket URLs, greets each connection with `hello`, sends envelopes and matches acks."""

    def __init__(self) -> None:
        self.origin = ""  # ws://host:port, known once the fake listens
        self.clients: list[SocketClient] = []
        self._tickets: set[str] = set()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def install(self, app: web.Application) -> None:
        """Serve the WebSocket on `app` and close open sockets when it shuts down."""
        app.router.add_get(PATH, self._handle)
        app.on_shutdown.append(self._close_all)

    def open_connection(self, p: dict[str, Any]) -> dict[str, Any]:
        """`apps.connections.open`: a fresh URL with a ticket only this fake accepts."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"url": f"{self.origin}{PATH}?ticket={ticket}&app_id={APP_ID}"}

    async def connected(self, timeout: float = 5.0) -> SocketClient:
        """Wait for an open connection and return the newest one."""
        async with asyncio.timeout(timeout):
            while not (live := [c for c in self.clients if c.connected]):
                await asyncio.sleep(0.01)
        return live[-1]

    async def send(self, payload_type: str, payload: dict[str, Any], *, timeout: float = 5.0,
                   accepts_response_payload: bool | None = None) -> dict[str, Any]:
        """Deliver one envelope to the newest connection and return the app's acknowledgement of it."""
        client = await self.connected(timeout)
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = (_ACCEPTS_RESPONSE_PAYLOAD.get(payload_type, False)
                                        or payload.get("type") in _RESPONDING_INTERACTIONS)
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": payload_type,
                    "accepts_response_payload": accepts_response_payload}
        if payload_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        ack = self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        try:
            await client.ws.send_json(envelope)
            async with asyncio.timeout(timeout):
                return await ack
        except TimeoutError:
            raise TimeoutError(f"no ack for the {payload_type} envelope {envelope_id} within {timeout}s") from None
        finally:
            self._acks.pop(envelope_id, None)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Warn every open connection that Slack is about to drop it; the app is expected to open a new one."""
        for client in [c for c in self.clients if c.connected]:
            await client.ws.send_json({"type": "disconnect", "reason": reason,
                                       "debug_info": {"host": "fake-applink-1"}})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = SocketClient(ticket, ws)
        self.clients.append(client)
        await ws.send_json({"type": "hello", "num_connections": len([c for c in self.clients if c.connected]),
                            "debug_info": {"host": "fake-applink-1", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": APP_ID}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            answer = json.loads(message.data)
            client.received.append(answer)
            ack = self._acks.get(str(answer.get("envelope_id")))
            if ack is not None and not ack.done():
                ack.set_result(answer)
        return ws

    async def _close_all(self, app: web.Application) -> None:
        for client in self.clients:
            await client.ws.close(code=WSCloseCode.GOING_AWAY)

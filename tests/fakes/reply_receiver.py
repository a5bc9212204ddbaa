"""A listening tool's reply endpoint: checks the Standard Webhooks signature, answers with the status a test picks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.http.signing import SignatureVerifier


class ReplyReceiver:
    """Records every accepted `reply.created` delivery; `status` >= 300 refuses them."""

    def __init__(self, secret: str) -> None:
        self.status = 202
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._verifier = SignatureVerifier([secret])

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._verifier.verify(body, request.headers)
        if self.status >= 300:
            return web.json_response({"error": "mention is locked"}, status=self.status)
        self.received.append(json.loads(body))
        return web.json_response({"ok": True}, status=self.status)


@asynccontextmanager
async def reply_receiver(secret: str) -> AsyncIterator[ReplyReceiver]:
    """A receiver on a local port for the duration of the block."""
    target = ReplyReceiver(secret)
    app = web.Application()
    app.router.add_post("/replies", target.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    target.url = f"http://127.0.0.1:{runner.addresses[0][1]}/replies"
    try:
        yield target
    finally:
        await runner.cleanup()

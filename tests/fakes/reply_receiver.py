"""A listening tool's reply endpoint: checks the Standard Webhooks signature, answers with the status a test picks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.http.signing import SignatureVerifier


class ReplyReceiver:
    """Records every accepted `reply.created` delivery; `status` >= 300 refuses them, saying `error`.

    `upcoming` statuses answer the next deliveries, one each, before `status` does again; `tries` counts them all;
    a refusal carries `Retry-After: <retry_after>` when that is set.
    """

    def __init__(self, secret: str) -> None:
        self.status = 202
        self.error = "mention is locked"
        self.upcoming: list[int] = []
        self.tries = 0
        self.retry_after: str | None = None
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._verifier = SignatureVerifier([secret])

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self._verifier.verify(body, request.headers)
        self.tries += 1
        status = self.upcoming.pop(0) if self.upcoming else self.status
        if status >= 300:
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else None
            return web.json_response({"error": self.error}, status=status, headers=headers)
        self.received.append(json.loads(body))
        return web.json_response({"ok": True}, status=status)


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

"""The tests' Bot Connector fake in its own process, plus `GET /bench/stats` counting calls per operation."""

from __future__ import annotations

import asyncio
import collections
import contextlib

from aiohttp import web

from tests.fakes.bot_connector import BotConnectorFake


class CountingBotConnectorFake(BotConnectorFake):
    """BotConnectorFake that also answers how many calls of each operation it has seen."""

    def make_app(self) -> web.Application:
        """The fake's app with a stats route added."""
        app = super().make_app()
        app.router.add_get("/bench/stats", self._stats)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(collections.Counter(call.operation for call in self.calls)))


async def _serve() -> None:
    async with CountingBotConnectorFake() as fake:
        print(fake.url, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())

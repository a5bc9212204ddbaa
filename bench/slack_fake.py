"""The tests' Slack Web API fake in its own process, plus `GET /bench/stats` counting calls per method."""

from __future__ import annotations

import asyncio
import collections
import contextlib

from aiohttp import web

from tests.fakes.slack_api import SlackFake


class CountingSlackFake(SlackFake):
    """SlackFake that also answers how many calls of each method it has seen."""

    def make_app(self) -> web.Application:
        """The fake's app with a stats route added."""
        app = super().make_app()
        app.router.add_get("/bench/stats", self._stats)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(collections.Counter(name for name, _ in self.calls)))


async def _serve() -> None:
    async with CountingSlackFake() as fake:
        print(fake.url, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())

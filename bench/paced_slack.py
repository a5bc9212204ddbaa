"""A Slack fake that keeps Slack's pace: chat.postMessage beyond ~1 a second per channel gets 429 and Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from aiohttp import web

from bench.slack_fake import CountingSlackFake
from tests.fakes.slack_api import Params, Reply

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Posted:
    """One accepted chat.postMessage: where, its ts, the subject its metadata names, when (the fake's clock)."""

    channel: str
    ts: str
    subject: str
    at: float


@dataclass(frozen=True, slots=True)
class Updated:
    """One accepted chat.update: which message, when (the fake's clock)."""

    channel: str
    ts: str
    at: float


class _Bucket:
    """A token bucket: `rate` posts a second, at most `burst` at once."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), now

    def take(self, now: float) -> float:
        """Take a token if there is one and return 0; else the seconds until there is one."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class _OverPace(Exception):
    """A post beyond the channel's pace; the middleware answers it as Slack does."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"over pace for {wait:.2f} s")
        self.wait = wait


class PacedSlackFake(CountingSlackFake):
    """CountingSlackFake that answers chat.postMessage beyond `rate` a second per channel (bursts of `burst`) as
    Slack does: HTTP 429, `error: ratelimited`, `Retry-After` in whole seconds, and nothing posted.

    It counts those refusals per channel (`limited`) and keeps every accepted post (`posted`) and update
    (`updated`); `GET /bench/posts?since=N&updates_since=M` answers them, the posts from the N-th on and the
    updates from the M-th on.
    """

    def __init__(self, *, rate: float = 1.0, burst: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}
        self.limited: Counter[str] = Counter()
        self.posted: list[Posted] = []
        self.updated: list[Updated] = []

    def make_app(self) -> web.Application:
        """The counting fake's app, paced, with the posts route added."""
        app = super().make_app()
        app.middlewares.append(_answer_over_pace)
        app.router.add_get("/bench/posts", self._posts)
        return app

    def _post_message(self, p: Params) -> Reply:
        channel = str(p.get("channel") or "")
        now = self._clock()
        wait = self._buckets.setdefault(channel, _Bucket(self._rate, self._burst, now)).take(now)
        if wait > 0:
            self.limited[channel] += 1
            raise _OverPace(wait)
        reply = super()._post_message(p)
        payload = p["metadata"].get("event_payload") if "metadata" in p else None
        subject = str(payload.get("subject", "")) if isinstance(payload, dict) else ""
        self.posted.append(Posted(reply["channel"], reply["ts"], subject, now))
        return reply

    def _update(self, p: Params) -> Reply:
        reply = super()._update(p)
        self.updated.append(Updated(reply["channel"], reply["ts"], self._clock()))
        return reply

    async def _posts(self, request: web.Request) -> web.Response:
        since, updates_since = int(request.query.get("since", "0")), int(request.query.get("updates_since", "0"))
        return web.json_response({"limited": sum(self.limited.values()),
                                  "posts": [asdict(p) for p in self.posted[since:]],
                                  "updates": [asdict(u) for u in self.updated[updates_since:]]})


@web.middleware
async def _answer_over_pace(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _OverPace as over:
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                 headers={"Retry-After": str(max(1, math.ceil(over.wait)))})


async def _serve() -> None:
    async with PacedSlackFake() as fake:
        print(fake.url, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())

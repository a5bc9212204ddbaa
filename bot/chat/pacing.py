"""Pacing for chat platforms' rate limits: sliding windows per key (a channel, a conversation, a tenant)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

Windows = tuple[tuple[int, float], ...]  # (at most this many sends, in this many seconds), every one kept


class Pacer:
    """Waits until one more send fits every window of its key; waiters on one key go in the order they came."""

    def __init__(self, windows: Windows, clock: Callable[[], float] = time.monotonic) -> None:
        self._windows, self._clock = windows, clock
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._longest = max(seconds for _, seconds in windows)

    def delay(self, key: str) -> float:
        """Seconds until a send on `key` fits (0 if it fits now)."""
        sent = self._sent.setdefault(key, deque())
        now = self._clock()
        while sent and sent[0] <= now - self._longest:
            sent.popleft()
        wait = 0.0
        for limit, seconds in self._windows:
            recent = [t for t in sent if t > now - seconds]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + seconds - now)
        return wait

    def record(self, key: str) -> None:
        """Count a send on `key` now."""
        self._sent.setdefault(key, deque()).append(self._clock())

    async def wait(self, key: str) -> None:
        """Sleep until a send on `key` fits, then count it."""
        # asyncio.Lock wakes its waiters first come, first served, so a key's sends keep their order.
        async with self._locks.setdefault(key, asyncio.Lock()):
            while (pause := self.delay(key)) > 0:
                await asyncio.sleep(pause)
            self.record(key)

"""Pacing for chat platforms' rate limits: sliding windows per key (a channel, a conversation, a tenant)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable

Windows = tuple[tuple[int, float], ...]  # (at most this many sends, in this many seconds), every one kept


class Pacer:
    """Waits until one more send fits every window of its key; the most urgent waiter on a key goes first.

    Urgency is the outbox's job priority (lower first: what people just did, then P1, P2, P3 cards); among equals,
    the one that came first. So in a storm a P1 card takes the channel's next free slot, ahead of the backlog.
    """

    def __init__(self, windows: Windows, clock: Callable[[], float] = time.monotonic) -> None:
        self._windows, self._clock = windows, clock
        self._sent: dict[str, deque[float]] = {}
        self._turns: dict[str, asyncio.Condition] = {}
        self._waiting: dict[str, list[tuple[int, int]]] = {}  # per key, a heap of (priority, arrival)
        self._arrivals = itertools.count()
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

    def record(self, key: str) -> float:
        """Count a send on `key` now; returns when it was counted."""
        now = self._clock()
        self._sent.setdefault(key, deque()).append(now)
        return now

    def postpone(self, key: str, counted: float, seconds: float) -> None:
        """The send counted at `counted` goes `seconds` later (it waits for a slot the database booked for it), so
        the next waiter's window starts from when it is really sent and the schedule never runs ahead of it."""
        sent = self._sent.get(key)
        if seconds <= 0 or not sent or counted not in sent:
            return
        sent.remove(counted)
        sent.append(counted + seconds)
        self._sent[key] = deque(sorted(sent))

    async def wait(self, key: str, priority: int = 0, *, ahead: float = 0.0) -> float:
        """Sleep until a send on `key` fits (or will within `ahead` seconds: a burst the platform allows) and no
        more urgent waiter is ahead, then count it; returns when it was counted (for `postpone`)."""
        turn = self._turns.setdefault(key, asyncio.Condition())
        waiting = self._waiting.setdefault(key, [])
        ticket = (priority, next(self._arrivals))
        async with turn:
            heapq.heappush(waiting, ticket)
            turn.notify_all()  # a waiter sleeping out a window re-checks whether it is still first
            try:
                while True:
                    await turn.wait_for(lambda: waiting[0] == ticket)
                    pause = self.delay(key) - ahead
                    if pause <= 0:
                        break
                    try:  # sleep out the window, unless a more urgent waiter arrives meanwhile (asyncio.timeout:
                        async with asyncio.timeout(pause):  # on 3.11 wait_for loses a cancel that meets a notify)
                            await turn.wait()
                    except TimeoutError:
                        pass
                return self.record(key)
            finally:
                waiting.remove(ticket)
                heapq.heapify(waiting)
                turn.notify_all()

"""What `webcare doctor` reports: one checklist line per check, and a time box for blocking SDK calls."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class Status(StrEnum):
    """How a check came out; only FAIL makes `webcare doctor` exit 1."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """The checklist line, e.g. `[ ok ] database: …`."""
        return f"[{self.status.value:^4}] {self.name}: {self.detail}"


async def in_daemon_thread(fn: Callable[[], T], timeout: float) -> T:
    """Run a blocking call (an SDK without timeouts) in a daemon thread, waiting at most `timeout` seconds.

    A call that hangs past its time box is left behind: the thread cannot hold up the command's exit.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 — handed to the waiting coroutine
            error = exc
            _call_soon(loop, lambda: settle(lambda: future.set_exception(error)))
        else:
            _call_soon(loop, lambda: settle(lambda: future.set_result(result)))

    threading.Thread(target=run, name="doctor-check", daemon=True).start()
    return await asyncio.wait_for(future, timeout)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop has closed: nobody waits for this answer any more
        pass

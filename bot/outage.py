"""Outage logging: one line when a dependency stops answering, one when it is back, and the backoff in between."""

from __future__ import annotations

import logging
import random
import time


def describe(exc: BaseException, limit: int = 200) -> str:
    """The exception's kind and the first line of its message, bounded: never a traceback."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Outage:
    """Tracks whether `what` (e.g. "database") is down for one loop; logs only the start and the end.

    `failed(exc)` returns how long the caller should wait before trying again (exponential, with jitter,
    capped); `recovered()` ends the outage. Between the two nothing is logged, however often it is called.
    """

    def __init__(self, what: str, logger: logging.Logger, *, first_delay: float = 0.5,
                 max_delay: float = 30.0) -> None:
        self._what, self._logger = what, logger
        self._first, self._max = first_delay, max_delay
        self._delay = first_delay
        self._since: float | None = None
        self._failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failure (logging it only if it starts an outage); return the seconds to wait before retrying."""
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            self._delay = self._first
            self._logger.error("%s unavailable (%s); retrying with backoff, next line when it is back",
                               self._what, describe(exc))
        delay = self._delay * random.uniform(0.5, 1.0)
        self._delay = min(self._max, self._delay * 2)
        return delay

    def recovered(self) -> None:
        """Note a success; logs one line if it ends an outage."""
        if self._since is None:
            return
        lasted = time.monotonic() - self._since
        self._logger.warning("%s available again after %.1f s (%d failed attempts)", self._what, lasted,
                             self._failures)
        self._since, self._failures, self._delay = None, 0, self._first

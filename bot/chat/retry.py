"""Retries at the I/O edges: a transient failure is tried again, after the server's Retry-After or our backoff."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.stop import stop_base


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read `Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class Retries:
    """How often to try, how long to back off between tries, and when to stop early."""

    attempts: int
    base_wait: float  # the backoff after the first failure; it doubles after each further one
    max_wait: float  # the longest backoff
    jitter: bool = False  # scale each backoff by a random factor between 0.5 and 1
    total: float | None = None  # no new attempt once this many seconds have passed since the first
    hand_back_over: float | None = None  # a longer Retry-After goes back to the caller at once, not waited out

    def backoff(self, attempt: int) -> float:
        """Our own wait after the `attempt`-th failure, when the server asked for none."""
        wait = min(self.max_wait, self.base_wait * 2 ** (attempt - 1))
        return wait * random.uniform(0.5, 1.0) if self.jitter else wait


def retrying(retries: Retries, *, transient: Callable[[BaseException], bool],
             asked: Callable[[BaseException], float | None],
             before_sleep: Callable[[RetryCallState], None] | None = None) -> AsyncRetrying:
    """A tenacity loop retrying `transient` failures; it waits what `asked` reads off a failure, else backs off.

    When it stops, the last failure is raised as it was.
    """

    def asked_of(state: RetryCallState) -> float | None:
        failure = state.outcome.exception() if state.outcome else None
        return asked(failure) if failure is not None else None

    def wait(state: RetryCallState) -> float:
        seconds = asked_of(state)
        return seconds if seconds is not None else retries.backoff(state.attempt_number)

    def asked_too_long(state: RetryCallState) -> bool:
        seconds = asked_of(state)
        return seconds is not None and retries.hand_back_over is not None and seconds > retries.hand_back_over

    stop: stop_base = stop_after_attempt(retries.attempts)
    if retries.total is not None:
        stop = stop | stop_after_delay(retries.total)
    if retries.hand_back_over is not None:
        stop = stop | asked_too_long
    return AsyncRetrying(retry=retry_if_exception(transient), wait=wait, stop=stop, before_sleep=before_sleep,
                         reraise=True)

"""Chat: retries wait what the server asked (seconds or a date) before their own backoff, and know when to stop."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.chat.retry import Retries, parse_retry_after, retrying

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Throttled(Exception):
    """A refusal that may pass, carrying the answer's headers."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        super().__init__("429 Too Many Requests")
        self.headers = headers or {}


class Refused(Exception):
    """A refusal that will not pass."""


def asked(exc: BaseException) -> float | None:
    return parse_retry_after(exc.headers.get("Retry-After")) if isinstance(exc, Throttled) else None


class Server:
    """Answers with the scripted failures in turn, then with "ok"; counts the calls and the waits between them."""

    def __init__(self, *failures: Exception) -> None:
        self.failures, self.calls, self.waits = list(failures), 0, []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def call(self, retries: Retries) -> str:
        loop = retrying(retries, transient=lambda exc: isinstance(exc, Throttled), asked=asked).copy(sleep=self.sleep)
        async for attempt in loop:
            with attempt:
                self.calls += 1
                if self.failures:
                    raise self.failures.pop(0)
                return "ok"
        raise AssertionError("unreachable")


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0), (" 7 ", 7.0), ("0.5", 0.5), ("0", 0.0), ("-5", 0.0),
    (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),
])
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "NaN", "inf", "-inf", "12 parsecs", "Mon, 99 Foo 2025"])
def test_a_missing_or_garbled_retry_after_reads_as_not_asked(value):
    assert parse_retry_after(value, now=NOW) is None


async def test_the_asked_wait_is_honoured_over_the_backoff():
    server = Server(Throttled({"Retry-After": "3"}), Throttled(), Throttled({"Retry-After": "0"}))
    assert await server.call(Retries(attempts=4, base_wait=0.5, max_wait=8.0)) == "ok"
    assert server.waits == [3.0, 1.0, 0.0]  # the second failure asked nothing: 0.5 doubled once
    assert server.calls == 4


async def test_a_retry_after_date_is_waited_until():
    when = datetime.now(UTC) + timedelta(seconds=30)
    server = Server(Throttled({"Retry-After": format_datetime(when, usegmt=True)}))
    assert await server.call(Retries(attempts=2, base_wait=0.5, max_wait=8.0)) == "ok"
    assert 28.0 < server.waits[0] <= 30.0  # an HTTP date counts whole seconds


async def test_a_garbled_or_nan_retry_after_falls_back_to_the_backoff():
    server = Server(Throttled({"Retry-After": "later"}), Throttled({"Retry-After": "NaN"}))
    assert await server.call(Retries(attempts=3, base_wait=1.0, max_wait=8.0)) == "ok"
    assert server.waits == [1.0, 2.0]


async def test_the_backoff_doubles_up_to_its_cap_and_the_last_failure_is_raised_as_it_was():
    last = Throttled()
    server = Server(*[Throttled() for _ in range(5)], last)
    with pytest.raises(Throttled) as raised:
        await server.call(Retries(attempts=6, base_wait=1.0, max_wait=8.0))
    assert raised.value is last
    assert server.calls == 6
    assert server.waits == [1.0, 2.0, 4.0, 8.0, 8.0]


async def test_jitter_waits_between_half_and_all_of_the_backoff():
    server = Server(*[Throttled() for _ in range(4)])
    with pytest.raises(Throttled):
        await server.call(Retries(attempts=4, base_wait=1.0, max_wait=8.0, jitter=True))
    assert all(0.5 * full <= wait <= full for wait, full in zip(server.waits, [1.0, 2.0, 4.0], strict=True))


async def test_a_retry_after_longer_than_the_limit_goes_back_to_the_caller_at_once():
    server = Server(Throttled({"Retry-After": "120"}))
    with pytest.raises(Throttled) as raised:
        await server.call(Retries(attempts=5, base_wait=0.5, max_wait=30.0, hand_back_over=30.0))
    assert asked(raised.value) == 120.0
    assert (server.calls, server.waits) == (1, [])


async def test_a_retry_after_within_the_limit_is_waited_out():
    server = Server(Throttled({"Retry-After": "30"}))
    assert await server.call(Retries(attempts=5, base_wait=0.5, max_wait=30.0, hand_back_over=30.0)) == "ok"
    assert server.waits == [30.0]


async def test_a_failure_that_will_not_pass_is_not_tried_again():
    server = Server(Refused("no"))
    with pytest.raises(Refused):
        await server.call(Retries(attempts=4, base_wait=0.5, max_wait=8.0))
    assert (server.calls, server.waits) == (1, [])

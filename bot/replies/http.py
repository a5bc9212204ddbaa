"""One HTTP exchange for a reply connector: send, classify the answer, retry what is transient."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDict
from tenacity import RetryCallState
from yarl import URL

from bot.chat.retry import Retries, parse_retry_after, retrying
from bot.replies.base import DeliveryError

logger = logging.getLogger(__name__)

T = TypeVar("T")

SNIPPET_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SPACE = re.compile(r"\s+")
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long one delivery may retry before handing back to the outbox."""

    attempts: int = 3
    max_wait: float = 30.0
    base_wait: float = 0.5
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.max_wait < 0 or self.base_wait < 0 or self.timeout <= 0:
            raise ValueError("waits must be >= 0 and timeout > 0")


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as read off the wire."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """Parse the body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def safe_url(url: str) -> str:
    """Return scheme, host and path only: query strings and user info may carry credentials."""
    try:
        parsed = URL(url)
        return str(parsed.with_user(None).with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "<invalid url>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret with `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def snippet(answer: Answer, secrets: Iterable[str] = ()) -> str:
    """Return a short, single-line, secret-free excerpt of an error body, preferring its message."""
    parsed = answer.json()
    if isinstance(parsed, dict):
        for key in ("error_description", "error", "message", "detail"):
            if isinstance(parsed.get(key), str) and parsed[key].strip():
                text = parsed[key]
                break
        else:
            text = answer.body.decode("utf-8", "replace")
    else:
        text = answer.body.decode("utf-8", "replace")
    text = _SPACE.sub(" ", _CONTROL.sub(" ", redact(text, secrets))).strip()
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def is_transient_status(status: int) -> bool:
    """Whether trying the same request later may succeed: 408, 425, 429 and every 5xx."""
    return status in (408, 425, 429) or 500 <= status < 600


def error_for(
    answer: Answer, *, what: str, refused: str = "refused the reply", secrets: Iterable[str] = ()
) -> DeliveryError:
    """Turn a non-2xx answer into a DeliveryError a person can read, e.g. "Mastodon refused the reply (…)"."""
    status = _status_text(answer.status)
    detail = snippet(answer, secrets)
    tail = f": {detail}" if detail else ""
    if 300 <= answer.status < 400:
        return DeliveryError(
            f"{what} answered with a redirect ({status}); configure its final URL",
            transient=False,
        )
    if is_transient_status(answer.status):
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        verb = "is rate limiting us" if answer.status == 429 else "is unavailable"
        return DeliveryError(f"{what} {verb} ({status}){tail}", transient=True, retry_after=retry_after)
    return DeliveryError(f"{what} {refused} ({status}){tail}", transient=False)


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Answer:
    """Send one request and read the answer; network failures become transient DeliveryErrors."""
    logger.debug("%s %s", method, safe_url(url))
    try:
        async with session.request(
            method,
            url,
            headers=dict(headers or {}),
            data=data,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
            answer = Answer(response.status, CIMultiDict(response.headers), body)
    except TimeoutError:
        raise DeliveryError(f"{what} did not answer within {timeout:g}s", transient=True) from None
    except aiohttp.InvalidURL:
        raise DeliveryError(f"{what} has an invalid URL", transient=False) from None
    except aiohttp.ClientError as exc:
        raise DeliveryError(f"could not reach {what} ({type(exc).__name__})", transient=True) from None
    logger.debug("%s %s -> %s", method, safe_url(url), answer.status)
    return answer


def check_header_value(value: str, *, name: str) -> str:
    """Return `value` if it can travel as an HTTP header; else raise a permanent DeliveryError."""
    if not value or not _HEADER_SAFE.fullmatch(value):
        raise DeliveryError(f"the {name} cannot be sent as an HTTP header", transient=False)
    return value


def is_transient(exc: BaseException) -> bool:
    """The retry predicate: only a DeliveryError that says trying again may help."""
    return isinstance(exc, DeliveryError) and exc.transient


async def with_retries(attempt: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run `attempt`, retrying transient DeliveryErrors; the server's Retry-After wins over backoff.

    A Retry-After longer than `policy.max_wait` stops at once: the error goes back to the
    caller (the outbox) with its `retry_after`, rather than holding a worker that long.
    """
    retries = Retries(attempts=policy.attempts, base_wait=policy.base_wait, max_wait=policy.max_wait,
                      hand_back_over=policy.max_wait)
    async for trying in retrying(retries, transient=is_transient, asked=_asked, before_sleep=_log_retry):
        with trying:
            return await attempt()
    raise AssertionError("unreachable")  # pragma: no cover


def _asked(exc: BaseException) -> float | None:
    """The wait the server asked for, read off the answer when the error was made."""
    return exc.retry_after if isinstance(exc, DeliveryError) else None


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    logger.warning("attempt %s failed (%s); retrying in %.2fs", state.attempt_number, exc, wait)


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"

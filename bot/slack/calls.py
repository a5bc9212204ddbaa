"""Every Slack Web API call goes through here: retried on 429 (Retry-After first), 5xx and network faults."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_after_delay

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_TOTAL_SECONDS = 60.0


def is_transient(exc: BaseException) -> bool:
    """Rate limits, Slack-side errors and network faults may pass; other API errors will not."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return isinstance(exc, (aiohttp.ClientError, TimeoutError))


def retry_after(exc: BaseException | None) -> float | None:
    """The wait Slack asked for, in seconds."""
    if isinstance(exc, SlackApiError):
        value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        if value is not None:
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    asked = retry_after(exc)
    return asked if asked is not None else min(8.0, 0.5 * 2 ** (state.attempt_number - 1))


def was_refused(exc: BaseException) -> bool:
    """Slack rate-limited the call, so it did nothing: even a post may be sent again."""
    return isinstance(exc, SlackApiError) and exc.response.status_code == 429


async def call(fn: Callable[..., Awaitable[AsyncSlackResponse]], /, *, idempotent: bool = True,
               **kwargs: Any) -> AsyncSlackResponse:
    """Call one Web API method, retrying transient failures a few times before giving up.

    A call that is not idempotent (chat.postMessage) is repeated only when Slack refused it: after a
    5xx, a timeout or a dropped connection it may have been performed, so the caller decides.
    """
    retry = is_transient if idempotent else was_refused
    async for attempt in AsyncRetrying(retry=retry_if_exception(retry), wait=_wait, reraise=True,
                                       stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(MAX_TOTAL_SECONDS)):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                logger.info("slack: retrying %s (attempt %d)", getattr(fn, "__name__", "call"),
                            attempt.retry_state.attempt_number)
            return await fn(**kwargs)
    raise AssertionError("unreachable")  # pragma: no cover

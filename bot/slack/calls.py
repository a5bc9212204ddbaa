"""Every Slack Web API call goes through here: retried on 429 (Retry-After first), 5xx and network faults."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.chat.retry import Retries, parse_retry_after, retrying

logger = logging.getLogger(__name__)

RETRIES = Retries(attempts=4, base_wait=0.5, max_wait=8.0, total=60.0)


def is_transient(exc: BaseException) -> bool:
    """Rate limits, Slack-side errors and network faults may pass; other API errors will not."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return isinstance(exc, (aiohttp.ClientError, TimeoutError))


def retry_after(exc: BaseException) -> float | None:
    """The wait Slack asked for, in seconds."""
    if isinstance(exc, SlackApiError):
        headers = exc.response.headers
        return parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
    return None


def was_refused(exc: BaseException) -> bool:
    """Slack rate-limited the call, so it did nothing: even a post may be sent again."""
    return isinstance(exc, SlackApiError) and exc.response.status_code == 429


async def call(fn: Callable[..., Awaitable[AsyncSlackResponse]], /, *, idempotent: bool = True,
               **kwargs: Any) -> AsyncSlackResponse:
    """Call one Web API method, retrying transient failures a few times before giving up.

    A call that is not idempotent (chat.postMessage) is repeated only when Slack refused it: after a
    5xx, a timeout or a dropped connection it may have been performed, so the caller decides.
    """
    async for attempt in retrying(RETRIES, transient=is_transient if idempotent else was_refused, asked=retry_after):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                logger.info("slack: retrying %s (attempt %d)", getattr(fn, "__name__", "call"),
                            attempt.retry_state.attempt_number)
            return await fn(**kwargs)
    raise AssertionError("unreachable")  # pragma: no cover

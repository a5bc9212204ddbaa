"""The `mastodon` reply connector: answer a status on one Mastodon instance in its own thread."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.replies.base import DeliveryError, DeliveryReceipt, ReplyRequest
from bot.replies.http import RetryPolicy, check_header_value, error_for, exchange, safe_url, with_retries

logger = logging.getLogger(__name__)

WHAT = "Mastodon"

# A reply is exactly as visible as the post it answers, never more; anything unknown stays direct.
_SAME_VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "private", "direct": "direct"}


def reply_visibility(original: str | None) -> str:
    """Return the visibility for a reply to a status with visibility `original`."""
    return _SAME_VISIBILITY.get(original or "", "direct")


def addressed_text(text: str, acct: str) -> str:
    """Prefix `@acct ` unless the text already mentions that account."""
    mentioned = re.compile(rf"(?<![\w@.])@{re.escape(acct)}(?![\w@-]|\.\w)", re.IGNORECASE)
    return text if mentioned.search(text) else f"@{acct} {text}"


class MastodonConnector:
    """Posts replies with a bot account's access token to the instance at `base_url`.

    The mention's `network_item_id` is the status id on that instance. Every POST carries
    `Idempotency-Key: <request.idempotency_key>`, so a retried or redelivered reply is one status.
    """

    name = "mastodon"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        session_factory: Callable[[], aiohttp.ClientSession] = aiohttp.ClientSession,
        attempts: int = 3,
        max_wait: float = 30.0,
        base_wait: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
        if not access_token:
            raise ValueError("the Mastodon access token is empty")
        self._base_url = base_url.rstrip("/")
        self._token = access_token
        self._session_factory = session_factory
        self._policy = RetryPolicy(attempts=attempts, max_wait=max_wait, base_wait=base_wait, timeout=timeout)

    def __repr__(self) -> str:
        return f"MastodonConnector(base_url={safe_url(self._base_url)!r})"

    async def deliver(self, request: ReplyRequest) -> DeliveryReceipt:
        """Reply in the original's thread with its visibility; raise DeliveryError when that fails."""
        status_id = request.mention.network_item_id
        if not status_id:
            raise DeliveryError("the mention has no Mastodon status id to reply to", transient=False)
        key = check_header_value(request.idempotency_key, name="reply's idempotency key")

        async with self._session_factory() as session:
            original = await with_retries(lambda: self._original(session, status_id), self._policy)
            params = {
                "status": addressed_text(request.text, original["account"]["acct"]),
                "in_reply_to_id": original["id"],
                "visibility": reply_visibility(original.get("visibility")),
            }
            posted = await with_retries(lambda: self._post(session, params, key), self._policy)

        logger.info("reply %s posted on Mastodon as status %s", key, posted["id"])
        return DeliveryReceipt(remote_id=str(posted["id"]), url=posted.get("url") or posted.get("uri"))

    async def _original(self, session: aiohttp.ClientSession, status_id: str) -> dict[str, Any]:
        answer = await exchange(
            session,
            "GET",
            f"{self._base_url}/api/v1/statuses/{quote(status_id, safe='')}",
            what=WHAT,
            timeout=self._policy.timeout,
            headers=self._auth(),
        )
        if answer.status in (404, 410):
            raise DeliveryError(
                "the original post is gone (deleted, or not visible to the bot account)", transient=False
            )
        if not answer.ok:
            raise error_for(answer, what=WHAT, refused="refused to show the original post", secrets=[self._token])
        status = answer.json()
        readable = isinstance(status, dict) and status.get("id") and isinstance(status.get("account"), dict)
        if not (readable and status["account"].get("acct")):
            raise DeliveryError(f"{WHAT} sent an unreadable answer for the original post", transient=True)
        return status

    async def _post(self, session: aiohttp.ClientSession, params: dict[str, Any], key: str) -> dict[str, Any]:
        answer = await exchange(
            session,
            "POST",
            f"{self._base_url}/api/v1/statuses",
            what=WHAT,
            timeout=self._policy.timeout,
            headers={**self._auth(), "Idempotency-Key": key, "Content-Type": "application/json"},
            data=json.dumps(params).encode(),
        )
        if not answer.ok:
            raise error_for(answer, what=WHAT, secrets=[self._token])
        posted = answer.json()
        if not (isinstance(posted, dict) and posted.get("id")):
            # The status may exist; the same Idempotency-Key makes the retry return it rather than post again.
            raise DeliveryError(f"{WHAT} sent an unreadable answer after posting the reply", transient=True)
        return posted

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

"""The `webhook` reply connector: POST a signed `reply.created` event (Standard Webhooks) to one URL."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.http.signing import signer
from bot.replies.base import DeliveryReceipt, ReplyRequest
from bot.replies.http import RetryPolicy, check_header_value, error_for, exchange, safe_url, with_retries

logger = logging.getLogger(__name__)

WHAT = "the reply webhook"


def reply_event(request: ReplyRequest, now: datetime) -> dict[str, Any]:
    """Build the `reply.created` event body for `request`."""
    mention = request.mention
    return {
        "type": "reply.created",
        "timestamp": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {
            "mention": {
                "source": mention.source,
                "source_mention_id": mention.source_mention_id,
                "network": mention.network,
                "network_item_id": mention.network_item_id,
                "url": mention.url,
            },
            "text": request.text,
            "agent": request.agent,
        },
    }


class WebhookConnector:
    """Delivers replies to a receiver that verifies Standard Webhooks signatures.

    `webhook-id` is the request's idempotency key, identical on every retry, so the
    receiver can de-duplicate; `webhook-timestamp` is the time of each attempt.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        session_factory: Callable[[], aiohttp.ClientSession] = aiohttp.ClientSession,
        attempts: int = 3,
        max_wait: float = 30.0,
        base_wait: float = 0.5,
        timeout: float = 10.0,
    ) -> None:
        self._signer = signer(secret)  # the same reading of a secret as ingest's: every one the library takes
        self._url = url
        self._secrets = (secret, secret.removeprefix("whsec_"))
        self._session_factory = session_factory
        self._policy = RetryPolicy(attempts=attempts, max_wait=max_wait, base_wait=base_wait, timeout=timeout)

    def __repr__(self) -> str:
        return f"WebhookConnector(url={safe_url(self._url)!r})"

    async def deliver(self, request: ReplyRequest) -> DeliveryReceipt:
        """POST the signed event, retrying transient failures; raise DeliveryError when it is not accepted."""
        msg_id = check_header_value(request.idempotency_key, name="reply's idempotency key")
        body = json.dumps(reply_event(request, datetime.now(UTC)), ensure_ascii=False, separators=(",", ":"))

        async with self._session_factory() as session:

            async def attempt() -> None:
                sent_at = datetime.now(UTC)
                headers = {
                    "Content-Type": "application/json",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(sent_at.timestamp())),
                    "webhook-signature": self._signer.sign(msg_id, sent_at, body),
                }
                answer = await exchange(
                    session,
                    "POST",
                    self._url,
                    what=WHAT,
                    timeout=self._policy.timeout,
                    headers=headers,
                    data=body.encode(),
                )
                if not answer.ok:
                    raise error_for(answer, what=WHAT, secrets=self._secrets)

            await with_retries(attempt, self._policy)

        logger.info("reply %s delivered to %s", msg_id, safe_url(self._url))
        return DeliveryReceipt()

"""Edge tests for the webhook reply connector against a real local receiver that verifies signatures."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.replies.base import DeliveryError, DeliveryReceipt, MentionRef, ReplyRequest
from bot.replies.webhook import WebhookConnector

SECRET = "whsec_" + base64.b64encode(b"reply-webhook-test-secret-0123456789").decode()
RAW_SECRET = SECRET.removeprefix("whsec_")

REQUEST = ReplyRequest(
    mention=MentionRef(
        source="meltwater",
        source_mention_id="mw:doc:7f3a9c2e1b",
        network="x",
        network_item_id="1991438273645195264",
        url="https://x.com/sannedv/status/1991438273645195264",
        author_handle="sannedv",
    ),
    text="Hi Sanne, sorry! Your parcel ships today — Anna",
    agent="Anna de Vries",
    idempotency_key="reply-42-draft-1",
)


@dataclass
class Receiver:
    """Answers from a script (then 200), records every delivery and whether its signature verified."""

    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    delay: float = 0.0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = Webhook(SECRET).verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            event, verified = None, False
        self.deliveries.append(
            {"id": request.headers.get("webhook-id"), "event": event, "verified": verified, "at": time.monotonic()}
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers, text = self.script.pop(0) if self.script else (200, {}, "")
        return web.Response(status=status, headers=headers, text=text)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/replies", rec.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server(access_log=None)  # the receiver's own access log is not the bot's
    rec.url = str(server.make_url("/hooks/replies"))
    yield rec
    await server.close()


def connector(url: str, **kwargs: Any) -> WebhookConnector:
    return WebhookConnector(url, SECRET, **{"base_wait": 0.01, "max_wait": 2.0, **kwargs})


async def test_delivers_a_signed_reply_created_event(receiver: Receiver) -> None:
    receipt = await connector(receiver.url).deliver(REQUEST)

    assert receipt == DeliveryReceipt()
    [delivery] = receiver.deliveries
    assert delivery["verified"], "the receiver could not verify the Standard Webhooks signature"
    assert delivery["id"] == REQUEST.idempotency_key
    event = delivery["event"]
    assert event["type"] == "reply.created"
    sent = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60
    assert event["data"] == {
        "mention": {
            "source": "meltwater",
            "source_mention_id": "mw:doc:7f3a9c2e1b",
            "network": "x",
            "network_item_id": "1991438273645195264",
            "url": "https://x.com/sannedv/status/1991438273645195264",
        },
        "text": "Hi Sanne, sorry! Your parcel ships today — Anna",
        "agent": "Anna de Vries",
    }


async def test_a_receiver_with_another_secret_rejects_the_signature(receiver: Receiver) -> None:
    other = "whsec_" + base64.b64encode(b"some-other-secret-entirely-000000").decode()
    await WebhookConnector(receiver.url, other).deliver(REQUEST)

    assert [d["verified"] for d in receiver.deliveries] == [False]


async def test_503_with_retry_after_is_retried_after_the_asked_wait_with_the_same_id(receiver: Receiver) -> None:
    receiver.script = [(503, {"Retry-After": "1"}, "maintenance")]

    await connector(receiver.url).deliver(REQUEST)

    first, second = receiver.deliveries
    assert first["id"] == second["id"] == REQUEST.idempotency_key
    assert first["verified"] and second["verified"]
    assert second["at"] - first["at"] >= 0.9, "Retry-After: 1 was not honoured"
    assert first["event"] == second["event"], "a retry must carry the same event"


async def test_retry_after_beyond_max_wait_goes_back_to_the_caller_at_once(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "120"}, "slow down")]

    with pytest.raises(DeliveryError) as caught:
        await connector(receiver.url, max_wait=5.0).deliver(REQUEST)

    assert caught.value.transient
    assert caught.value.retry_after == 120
    assert len(receiver.deliveries) == 1


async def test_persistent_5xx_gives_up_after_the_attempts_as_transient(receiver: Receiver) -> None:
    receiver.script = [(502, {}, "bad gateway")] * 3

    with pytest.raises(DeliveryError) as caught:
        await connector(receiver.url, attempts=3).deliver(REQUEST)

    assert caught.value.transient
    assert "502" in caught.value.reason
    assert [d["id"] for d in receiver.deliveries] == [REQUEST.idempotency_key] * 3


async def test_400_is_permanent_with_a_readable_reason(receiver: Receiver) -> None:
    receiver.script = [(400, {"Content-Type": "application/json"}, json.dumps({"error": "unknown mention\nmw:doc:x"}))]

    with pytest.raises(DeliveryError) as caught:
        await connector(receiver.url).deliver(REQUEST)

    assert not caught.value.transient
    assert caught.value.reason == "the reply webhook refused the reply (HTTP 400 Bad Request): unknown mention mw:doc:x"
    assert len(receiver.deliveries) == 1, "a permanent refusal must not be retried"


async def test_long_error_bodies_are_cut_short(receiver: Receiver) -> None:
    receiver.script = [(422, {}, "<html>" + "x" * 5000 + "</html>")]

    with pytest.raises(DeliveryError) as caught:
        await connector(receiver.url).deliver(REQUEST)

    assert "422" in caught.value.reason
    assert len(caught.value.reason) < 300


async def test_a_slow_receiver_times_out_as_transient(receiver: Receiver) -> None:
    receiver.delay = 1.0

    with pytest.raises(DeliveryError) as caught:
        await connector(receiver.url, attempts=2, timeout=0.2).deliver(REQUEST)

    assert caught.value.transient
    assert "did not answer" in caught.value.reason


async def test_an_unreachable_receiver_is_transient() -> None:
    server = TestServer(web.Application(), host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("/hooks/replies"))
    await server.close()  # nothing listens there any more

    with pytest.raises(DeliveryError) as caught:
        await connector(url, attempts=2).deliver(REQUEST)

    assert caught.value.transient
    assert "could not reach the reply webhook" in caught.value.reason


async def test_the_secret_never_shows_in_repr_errors_or_logs(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # A careless receiver that echoes what it got, secret included, in its error body.
    receiver.script = [(503, {}, f"debug: secret={SECRET} raw={RAW_SECRET}"), (401, {}, f"bad key {SECRET}")]
    hook = connector(receiver.url + "?token=" + RAW_SECRET)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError) as caught:
        await hook.deliver(REQUEST)

    assert len(receiver.deliveries) == 2
    shown = [repr(hook), str(hook), str(caught.value), caught.value.reason, repr(caught.value), caplog.text]
    for text in shown:
        assert RAW_SECRET not in text
    assert "bad key ***" in caught.value.reason
    assert "retrying" in caplog.text, "the retry should have been logged (else this test proves little)"


def test_a_malformed_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as caught:
        WebhookConnector("http://127.0.0.1:1/", "whsec_not base64!")

    assert "must be base64" in str(caught.value)
    assert "not base64!" not in str(caught.value)

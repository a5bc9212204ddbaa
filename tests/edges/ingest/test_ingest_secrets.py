"""Ingest takes every secret the Standard Webhooks reference library takes, and reads it to the same key."""

from __future__ import annotations

import base64
import json
import string
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict
from standardwebhooks.webhooks import Webhook

from bot.http.signing import SignatureVerifier
from tests.support import event, mention_data, running_app

# Base64 without its padding, as some senders hand secrets out: 23 bytes give 31 characters, not 32 with "=".
UNPADDED = "whsec_" + base64.b64encode(b"unpadded-ingest-secret!").decode().rstrip("=")
BODY = json.dumps({"type": "mention.created"}).encode()
BASE64_ISH = string.ascii_letters + string.digits + "+/=-_ !*"
REFUSAL = "a webhook secret must be base64 (optionally prefixed with whsec_)"  # never the secret itself


def reference_headers(secret: str, body: bytes, msg_id: str = "msg_ref") -> dict[str, str]:
    """Headers signed by the reference library, as a sender using it sends them."""
    now = datetime.now(UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body)}


def reference_accepts(secret: str) -> bool:
    try:
        Webhook(secret)
    except Exception:  # whatever the library raises, it refused the secret
        return False
    return True


async def test_server_with_an_unpadded_secret_starts_and_accepts_what_the_library_signed(sqlite_url):
    assert len(UNPADDED.removeprefix("whsec_")) % 4 and Webhook(UNPADDED)  # the library takes it unpadded
    async with running_app(sqlite_url, ingest_secret=UNPADDED) as client:
        body = json.dumps(event(mention_data(1))).encode()
        response = await client.post("/ingest/v1/mentions", data=body,
                                     headers={**reference_headers(UNPADDED, body), "Content-Type": "application/json"})
        assert response.status == 202, await response.text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=st.one_of(st.text(alphabet=BASE64_ISH, max_size=48), st.binary(min_size=1, max_size=40).map(
    lambda raw: base64.b64encode(raw).decode().rstrip("=")), st.text(max_size=12)),
       prefixed=st.booleans())
def test_a_secret_is_taken_exactly_when_the_reference_library_takes_it(secret, prefixed):
    secret = f"whsec_{secret}" if prefixed else secret
    if not reference_accepts(secret):
        with pytest.raises(ValueError) as refused:
            SignatureVerifier([secret])
        assert str(refused.value) == REFUSAL
        return
    verifier = SignatureVerifier([secret])
    assert verifier.verify(BODY, CIMultiDict(reference_headers(secret, BODY))) == "msg_ref"
    assert verifier.verify(BODY + b" ", CIMultiDict(reference_headers(secret, BODY + b" "))) == "msg_ref"


@pytest.mark.parametrize("secret", ["whsec_", "whsec_a", "whsec_====", "whsec_caf\u00e9-secret", "whsec_-_-_"])
def test_a_secret_the_library_refuses_stops_start_up_without_echoing_it(secret):
    assert not reference_accepts(secret)
    with pytest.raises(ValueError) as refused:
        SignatureVerifier([secret])
    assert str(refused.value) == REFUSAL and refused.value.__context__ is None

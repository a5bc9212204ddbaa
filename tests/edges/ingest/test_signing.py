"""Unit tests of Standard Webhooks signing: round trip, interoperability, rotation, time window, junk headers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from multidict import CIMultiDict
from standardwebhooks.webhooks import Webhook

from bot.http.signing import SignatureError, SignatureVerifier, sign, signed_headers

RAW_KEY = b"unit-test-ingest-secret-of-32-b!"
SECRET = "whsec_" + base64.b64encode(RAW_KEY).decode()
NEXT_SECRET = "whsec_" + base64.b64encode(b"the-next-secret-after-rotation!!").decode()
BODY = b'{"type": "mention.created", "data": {"text": "caf\xc3\xa9 \xf0\x9f\x98\xa1"}}'
NOW = 1_763_632_805


def headers_for(secret: str = SECRET, body: bytes = BODY, msg_id: str = "msg_2Kq", at: int = NOW) -> CIMultiDict[str]:
    """Signed headers as the HTTP server hands them over (case-insensitive)."""
    return CIMultiDict(signed_headers(secret, msg_id, body, at))


def test_signed_delivery_verifies_and_yields_its_webhook_id():
    assert SignatureVerifier([SECRET]).verify(BODY, headers_for(), now=NOW) == "msg_2Kq"


def test_signature_matches_the_reference_implementation_both_ways():
    reference = Webhook(SECRET)
    ours = dict(headers_for(at=int(datetime.now(UTC).timestamp())))
    assert reference.verify(BODY, ours) == {"type": "mention.created", "data": {"text": "caf\u00e9 \U0001f621"}}
    theirs = reference.sign("msg_ref", datetime.fromtimestamp(NOW, UTC), BODY.decode())
    headers = CIMultiDict({"webhook-id": "msg_ref", "webhook-timestamp": str(NOW), "webhook-signature": theirs})
    assert SignatureVerifier([SECRET]).verify(BODY, headers, now=NOW) == "msg_ref"


def test_secret_without_prefix_is_the_same_key():
    unprefixed = SECRET.removeprefix("whsec_")
    assert sign(unprefixed, "msg_1", NOW, BODY) == sign(SECRET, "msg_1", NOW, BODY)


@pytest.mark.parametrize("change", ["body", "id", "timestamp"])
def test_any_change_to_what_was_signed_is_refused(change):
    headers = headers_for()
    body = BODY
    if change == "body":
        body = BODY.replace(b"caf", b"cab")
    elif change == "id":
        headers["webhook-id"] = "msg_2Kr"
    else:
        headers["webhook-timestamp"] = str(NOW + 1)
    with pytest.raises(SignatureError, match="no signature matches"):
        SignatureVerifier([SECRET]).verify(body, headers, now=NOW)


def test_both_secrets_of_a_rotation_are_accepted_and_a_retired_one_is_not():
    rotating = SignatureVerifier([SECRET, NEXT_SECRET])
    for secret in (SECRET, NEXT_SECRET):
        assert rotating.verify(BODY, headers_for(secret), now=NOW) == "msg_2Kq"
    with pytest.raises(SignatureError):
        SignatureVerifier([NEXT_SECRET]).verify(BODY, headers_for(SECRET), now=NOW)


def test_one_valid_signature_among_several_is_enough():
    headers = headers_for()
    others = ["v1a,bm90LWVkMjU1MTk=", sign(NEXT_SECRET, "msg_2Kq", NOW, BODY), "v1,", "garbage"]
    headers["webhook-signature"] = " ".join([*others, headers["webhook-signature"]])
    assert SignatureVerifier([SECRET]).verify(BODY, headers, now=NOW) == "msg_2Kq"


def test_signature_of_another_version_is_not_accepted():
    headers = headers_for()
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(SignatureError):
        SignatureVerifier([SECRET]).verify(BODY, headers, now=NOW)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_300_seconds_are_accepted(offset):
    assert SignatureVerifier([SECRET]).verify(BODY, headers_for(), now=NOW + offset) == "msg_2Kq"


@pytest.mark.parametrize("offset", [-301, 301, 3600, -86_400])
def test_timestamps_outside_300_seconds_are_refused(offset):
    with pytest.raises(SignatureError, match="300 s"):
        SignatureVerifier([SECRET]).verify(BODY, headers_for(), now=NOW + offset)


def with_junk(junk: dict[str, str | None]) -> CIMultiDict[str]:
    """Signed headers with some replaced (None: removed)."""
    headers = headers_for()
    for name, value in junk.items():
        headers.popall(name, None)
        if value is not None:
            headers[name] = value
    return headers


JUNK: dict[str, dict[str, str | None]] = {
    "no headers": {"webhook-id": None, "webhook-timestamp": None, "webhook-signature": None},
    "empty values": {"webhook-id": "", "webhook-timestamp": "", "webhook-signature": ""},
    "no id": {"webhook-id": None},
    "no signature": {"webhook-signature": None},
    "id of 201 characters": {"webhook-id": "m" * 201},
    "id with surrogates": {"webhook-id": "msg_\udcff\udcfe"},
    "timestamp negative": {"webhook-timestamp": "-1"},
    "timestamp float": {"webhook-timestamp": f"{NOW}.5"},
    "timestamp with spaces": {"webhook-timestamp": f" {NOW} "},
    "timestamp superscript digits": {"webhook-timestamp": "\u00b2\u00b3"},
    "timestamp arabic-indic digits": {"webhook-timestamp": "\u0661\u0667\u0666\u0663"},
    "timestamp of 5000 digits": {"webhook-timestamp": "9" * 5000},
    "timestamp in milliseconds": {"webhook-timestamp": str(NOW * 1000)},
    "timestamp not a number": {"webhook-timestamp": "Fri, 20 Nov 2026 10:00:05 GMT"},
    "signature without comma": {"webhook-signature": "v1"},
    "signature version only": {"webhook-signature": "v1,"},
    "signature not base64": {"webhook-signature": "v1,***"},
    "signature badly padded": {"webhook-signature": "v1,abc"},
    "signature non-ASCII": {"webhook-signature": "v1,\u00e9\u00e9\u00e9\u00e9"},
    "signature of the wrong length": {"webhook-signature": "v1," + base64.b64encode(b"short").decode()},
    "signature only spaces": {"webhook-signature": "   "},
    "signature of commas": {"webhook-signature": ",,, ,,"},
}


@pytest.mark.parametrize("junk", JUNK.values(), ids=JUNK.keys())
def test_junk_headers_raise_only_signature_error(junk):
    with pytest.raises(SignatureError):
        SignatureVerifier([SECRET]).verify(BODY, with_junk(junk), now=NOW)


def test_missing_headers_are_named():
    with pytest.raises(SignatureError, match="webhook-id, webhook-timestamp, webhook-signature"):
        SignatureVerifier([SECRET]).verify(BODY, CIMultiDict(), now=NOW)


def test_no_secret_means_not_configured_and_nothing_verifies():
    verifier = SignatureVerifier([])
    assert not verifier.configured
    with pytest.raises(SignatureError):
        verifier.verify(BODY, headers_for(), now=NOW)


def test_repr_and_errors_never_show_a_secret():
    verifier = SignatureVerifier([SECRET, NEXT_SECRET])
    shown = [repr(verifier), str(verifier)]
    for junk in JUNK.values():
        try:
            verifier.verify(BODY, with_junk(junk), now=NOW)
        except SignatureError as exc:
            shown.append(str(exc))
    for secret in (SECRET, NEXT_SECRET):
        raw = secret.removeprefix("whsec_")
        assert not any(raw in text or repr(base64.b64decode(raw)) in text for text in shown)
    assert "2 secrets hidden" in repr(verifier)


def test_secret_that_is_not_base64_is_refused_without_echoing_it():
    with pytest.raises(ValueError, match="base64") as caught:
        SignatureVerifier(["whsec_secretvalues1"])
    assert "secretvalues1" not in str(caught.value) and "base64" in str(caught.value)

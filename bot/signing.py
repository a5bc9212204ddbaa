"""Standard Webhooks signing and verification: several secrets (rotation), a replay window, no crash on junk."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 300
_REFUSAL = "a webhook secret must be base64 (optionally prefixed with whsec_)"


class SignatureError(Exception):
    """The delivery is not signed by a current secret, or its timestamp is outside the window."""


def _key(secret: str) -> bytes:
    """The HMAC key of a secret, read as the reference library (`standardwebhooks.Webhook`) reads it.

    So every secret a sender's library takes works here too: its padding may be left out, and characters
    outside base64 are skipped. An empty key is refused; the error never repeats the secret.
    """
    try:
        key = base64.b64decode(secret.removeprefix("whsec_") + "==")
    except ValueError:  # binascii.Error, or a character that is not ASCII
        key = b""
    if not key:
        raise ValueError(_REFUSAL)
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (`v1,<base64 HMAC-SHA256>`) for this delivery."""
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """All three Standard Webhooks headers for a delivery of `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(secret, msg_id, ts, body)}


class SignatureVerifier:
    """Verifies deliveries against every configured secret; the secrets never print."""

    def __init__(self, secrets: list[str], *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self._keys = [_key(secret) for secret in secrets]
        self._tolerance = tolerance

    def __repr__(self) -> str:
        return f"SignatureVerifier(<{len(self._keys)} secrets hidden>)"

    @property
    def configured(self) -> bool:
        """At least one secret is set."""
        return bool(self._keys)

    def verify(self, body: bytes, headers: Mapping[str, str], now: float | None = None) -> str:
        """Return the `webhook-id` if a current secret signed this body in time; raise SignatureError otherwise."""
        msg_id = headers.get("webhook-id", "")
        stamp = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature", "")
        missing = [n for n, v in (("webhook-id", msg_id), ("webhook-timestamp", stamp),
                                  ("webhook-signature", signatures)) if not v]
        if missing:
            raise SignatureError(f"missing header {', '.join(missing)}")
        if len(msg_id) > 200:
            raise SignatureError("webhook-id is longer than 200 characters")
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            raise SignatureError("webhook-timestamp must be unix seconds")
        current = time.time() if now is None else now
        if abs(current - int(stamp)) > self._tolerance:
            raise SignatureError(f"webhook-timestamp is more than {self._tolerance} s away from now")
        try:
            signed = f"{msg_id}.{stamp}.".encode() + body
        except UnicodeEncodeError:  # header bytes that are not UTF-8 arrive as surrogates
            raise SignatureError("webhook-id is not UTF-8") from None
        expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in self._keys]
        for candidate in signatures.split():
            version, _, encoded = candidate.partition(",")
            if version != "v1":
                continue
            try:
                given = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            if any(hmac.compare_digest(given, e) for e in expected):
                return msg_id
        raise SignatureError("no signature matches a current secret")

"""Standard Webhooks on the `standardwebhooks` library: several secrets (rotation), a replay window, no crash."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

TOLERANCE_SECONDS = 300
_REFUSAL = "a webhook secret must be base64 (optionally prefixed with whsec_)"


class SignatureError(Exception):
    """The delivery is not signed by a current secret, or its timestamp is outside the window."""


def signer(secret: str) -> Webhook:
    """The library's signer for a secret: every secret it takes works (unpadded, with or without `whsec_`).

    An empty or undecodable secret is refused with an error that never repeats it.
    """
    try:
        return Webhook(secret)
    except Exception:  # binascii.Error, a non-ASCII character, or the library's EmptyWebhookSecretError
        pass
    raise ValueError(_REFUSAL)  # outside the handler: the library's error (and what it quoted) is not chained


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (`v1,<base64 HMAC-SHA256>`) for this delivery."""
    return signer(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """All three Standard Webhooks headers for a delivery of `body`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(secret, msg_id, ts, body)}


class SignatureVerifier:
    """Verifies deliveries against every configured secret; the secrets never print.

    The headers are checked here first, so each refusal says what is wrong and the window can be tested with
    a given clock; the signatures are the library's, compared in constant time.
    """

    def __init__(self, secrets: list[str], *, tolerance: int = TOLERANCE_SECONDS) -> None:
        self._signers = [signer(secret) for secret in secrets]
        self._tolerance = tolerance

    def __repr__(self) -> str:
        return f"SignatureVerifier(<{len(self._signers)} secrets hidden>)"

    @property
    def configured(self) -> bool:
        """At least one secret is set."""
        return bool(self._signers)

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
        try:
            msg_id.encode()
        except UnicodeEncodeError:  # header bytes that are not UTF-8 arrive as surrogates
            raise SignatureError("webhook-id is not UTF-8") from None
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
            raise SignatureError("webhook-timestamp must be unix seconds")
        current = time.time() if now is None else now
        if abs(current - int(stamp)) > self._tolerance:
            raise SignatureError(f"webhook-timestamp is more than {self._tolerance} s away from now")
        signed_at = datetime.fromtimestamp(int(stamp), UTC)
        given = [s.encode() for s in signatures.split() if s.startswith("v1,") and s.isascii()]
        for hook in self._signers:
            expected = hook.sign(msg_id, signed_at, body).encode()
            if any(hmac.compare_digest(expected, candidate) for candidate in given):
                return msg_id
        raise SignatureError("no signature matches a current secret")


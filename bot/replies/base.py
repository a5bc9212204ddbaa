"""The contract every reply connector keeps, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MentionRef:
    """What a connector needs to know about the mention it answers."""

    source: str
    source_mention_id: str
    network: str
    network_item_id: str | None
    url: str | None
    author_handle: str | None


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    """One answer to deliver; `idempotency_key` is stable across retries of the same draft."""

    mention: MentionRef
    text: str
    agent: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the network said after accepting the reply."""

    remote_id: str | None = None
    url: str | None = None


class DeliveryError(Exception):
    """A reply could not be delivered; `transient` says whether trying again may help."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class ReplyConnector(Protocol):
    """Delivers replies for mentions whose `reply_via` equals `name`."""

    name: str

    async def deliver(self, request: ReplyRequest) -> DeliveryReceipt:
        """Deliver once; raise DeliveryError on failure (the outbox decides about retrying)."""
        ...

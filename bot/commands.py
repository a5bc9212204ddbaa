"""One frozen dataclass per user intent; the edges build them, the handlers carry them out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Actor
from bot.views import DismissReason


@dataclass(frozen=True, slots=True)
class Claim:
    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Unclaim:
    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Escalate:
    mention_id: int
    actor: Actor
    departments: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PrepareAnswer:
    """Someone opened the Answer dialog: check they may, and say what the reply will need."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class SubmitReply:
    mention_id: int
    actor: Actor
    text: str


@dataclass(frozen=True, slots=True)
class Approve:
    draft_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class RequestChanges:
    draft_id: int
    actor: Actor
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RetryDelivery:
    draft_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Dismiss:
    mention_id: int
    actor: Actor
    reason: DismissReason


@dataclass(frozen=True, slots=True)
class Reopen:
    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Close:
    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowMine:
    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowQueue:
    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowStats:
    actor: Actor
    period: str = "today"

"""What a click or a typed command means, independent of the chat platform it came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.domain import Actor, DomainError
from bot.views import DismissReason

TEXT_COMMANDS = "help | mine | queue | stats [today|week]"


def _departments(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # Teams sends a multi-select as "a,b"
        value = value.split(",")
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def command_for(intent: str, subject_id: int, who: Actor, inputs: Mapping[str, Any]) -> object:
    """The command for an intent (`claim`, `escalate`, …) on a mention (or a draft), with the form's inputs."""
    note = inputs.get("note") or None
    match intent:
        case "claim":
            return c.Claim(subject_id, who)
        case "unclaim":
            return c.Unclaim(subject_id, who)
        case "reopen":
            return c.Reopen(subject_id, who)
        case "close":
            return c.Close(subject_id, who)
        case "escalate":
            return c.Escalate(subject_id, who, _departments(inputs.get("departments")), note)
        case "answer":
            return c.SubmitReply(subject_id, who, str(inputs.get("reply_text") or ""))
        case "dismiss":
            try:
                return c.Dismiss(subject_id, who, DismissReason(inputs.get("reason")))
            except ValueError:
                raise DomainError("Pick a reason.") from None
        case "approve":
            return c.Approve(subject_id, who)
        case "request_changes":
            return c.RequestChanges(subject_id, who, note)
        case "retry":
            return c.RetryDelivery(subject_id, who)
    raise DomainError("This button is not one of ours; the card may be from an older version.")


def subject_number(value: Any, what: str = "mention") -> int:
    """The mention or draft id an action carries, or a refusal a person understands."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise DomainError(f"This button does not name a {what}; the card may be from an older version.") from None


def text_query(text: str, who: Actor) -> object | None:
    """The query a typed `help | mine | queue | stats [today|week]` asks for (None for help)."""
    match text.strip().lower().split():
        case [] | ["help", *_]:
            return None
        case ["mine"]:
            return c.ShowMine(who)
        case ["queue"]:
            return c.ShowQueue(who)
        case ["stats"]:
            return c.ShowStats(who)
        case ["stats", period]:
            return c.ShowStats(who, period)
    raise DomainError(f"Unknown command. Try: {TEXT_COMMANDS}.")

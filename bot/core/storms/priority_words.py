"""A mention's priority in words: its level and stored reasons as a card says them, in the team's language."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalogue import Words
from bot.core.storms.priority import Reason, compact

_PLAIN = {Reason.VIP: "priority.vip", Reason.VERIFIED: "priority.verified", Reason.CRISIS: "priority.crisis",
          Reason.NEGATIVE: "priority.negative"}


def priority_label(level: str, reasons: Sequence[str], say: Words) -> str:
    """`P1 · 250k followers · verified` (`P1 · 250k volgers · geverifieerd`)."""
    return " · ".join((str(level), *(reason_words(reason, say) for reason in reasons)))


def reason_words(reason: str, say: Words) -> str:
    """One stored reason in words; a reason stored in words by an earlier release is shown as it was."""
    code, _, value = reason.partition(":")
    if code in _PLAIN and not value:
        return say(_PLAIN[Reason(code)])
    if code == Reason.FOLLOWERS and value.isdigit():
        return say("priority.followers", count=compact(int(value)))
    if code == Reason.KEYWORD and value:
        return say("priority.keyword", keyword=value)
    return reason

"""A playbook's triggers as one pattern: whole words or phrases, in any case."""

from __future__ import annotations

import re
from collections.abc import Iterable


def trigger_pattern(triggers: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any trigger as a whole word or phrase, in any case; None without triggers."""
    phrases = [r"\s+".join(re.escape(word) for word in t.split()) for t in triggers if t.strip()]
    if not phrases:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(sorted(phrases, key=len, reverse=True))})(?!\w)", re.IGNORECASE)

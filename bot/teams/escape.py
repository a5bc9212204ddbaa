"""Make untrusted text inert in Adaptive Cards and cut it without breaking a character."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_ZWSP = "\u200b"
_ELLIPSIS = "…"
# Adaptive Card markdown (TextBlock) knows bold, italic, lists and links. Teams clients differ on
# backslash escapes (mobile shows the backslash, and a link survives it), so markers are swapped
# for look-alikes and the other syntax is split by an invisible zero-width space.
_LOOKALIKES = str.maketrans({"*": "\u2217", "_": "\u02cd"})  # ∗ asterisk operator, ˍ low macron
_LINE_START = re.compile(r"^(?=[ \t]*(?:[-+>#\[]|\d+[.)]))", re.MULTILINE)  # list, quote, heading
_SPLITS = (
    (re.compile(r"\]\("), f"]{_ZWSP}("),  # [label](url)
    (re.compile(r"<"), f"<{_ZWSP}"),  # <at>…</at>, <https://…>
    (re.compile(r":(?=//)"), f":{_ZWSP}"),  # bare https://… that a client would link
    (re.compile(r"(?i)(?<![\w.])www\."), f"www{_ZWSP}."),
)
_AT_TAG = re.compile(r"<(?=/?at\b)", re.IGNORECASE)
_JOINED = frozenset("\u200d\ufe0e\ufe0f") | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def escape_markdown(text: str) -> str:
    """Neutralise Adaptive Card markdown in text a TextBlock must show (names, labels).

    Emphasis markers become look-alikes; links, lists, headings, quotes, `<at>` tags and bare
    addresses are split by a zero-width space, so what a person reads is unchanged but nothing
    in it formats, links or mentions. Customer text never goes through here: it goes in TextRuns.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    escaped = _LINE_START.sub(_ZWSP, lines.translate(_LOOKALIKES))
    for pattern, replacement in _SPLITS:
        escaped = pattern.sub(replacement, escaped)
    return escaped


def inert_run(text: str) -> str:
    """Return TextRun text with any `<at>` tag split, so no mention entity can ever match it."""
    return _AT_TAG.sub(f"<{_ZWSP}", text)


def safe_url(url: str | None) -> str | None:
    """Return the URL if it is a plain http(s) address fit for an `Action.OpenUrl`."""
    if not url or len(url) > 2048 or any(c.isspace() or not c.isprintable() for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def clip(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, ending in "…" when anything was left out."""
    if len(text) <= limit:
        return text
    return cut(text, limit - len(_ELLIPSIS))


def cut(text: str, keep: int) -> str:
    """Return the first `keep` characters or fewer, never splitting one visible character, plus "…"."""
    end = max(0, min(keep, len(text)))
    while 0 < end < len(text) and _continues(text[end - 1], text[end]):
        end -= 1
    return text[:end].rstrip() + _ELLIPSIS


def _continues(before: str, char: str) -> bool:
    """Tell whether `char` belongs to the same visible character as `before`."""
    return bool(unicodedata.combining(char)) or char in _JOINED or before == "\u200d"

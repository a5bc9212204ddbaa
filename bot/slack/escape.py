"""Make untrusted text inert in Slack mrkdwn and cut it to Block Kit limits."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_ZWSP = "\u200b"
_WJ = "\u2060"  # word joiner: invisible, and no word, address or mention runs across it
# Slack only decodes these three entities; everything else it shows literally.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Slack has no escape for emphasis or code markers. A marker formats only when it has
# whitespace on its outer side and text on its inner side; an invisible zero-width space on
# both sides keeps the character on screen and out of the parser.
_MARKERS = str.maketrans({c: f"{_ZWSP}{c}{_ZWSP}" for c in "*_~`"})
_QUOTE = re.compile(r"^(\s*)&gt;", re.MULTILINE)
# What Slack pings or links on its own where text is not `verbatim` (a message's `text`, an answer to a
# command): `@here`, `@channel`, `@everyone`, `scheme://…`, `www.…` and `name.tld`. A word joiner after
# the `@`, before the `://` and before each dot inside a word keeps it readable and dead.
_PINGS = r"(?i)(?<=@)(?=(?:here|channel|everyone|group)\b)"
_PING = re.compile(_PINGS)
_AUTOLINKS = re.compile(rf"{_PINGS}|(?<=\w)(?=://)|(?<=\w)(?=\.\w)")
# Escapes this module made, and the parts of one visible character, are never split by a cut.
_ATOMS = re.compile(rf"&(?:amp|lt|gt);|{_ZWSP}[*_~`]{_ZWSP}")
_ATOM_MAX = 5
_JOINED = frozenset("\u200d\ufe0e\ufe0f") | {chr(c) for c in range(0x1F3FB, 0x1F400)}
_ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    """Escape untrusted text so no mention, ping, link, emphasis, code or quote in it is live, anywhere.

    Besides Slack's own escapes, addresses and `@here`-like words get an invisible word joiner, so
    even where Slack links bare text (a notification's `text`) nothing becomes a link or a ping.
    """
    return _escape(text, defuse=True)


def escape_body(text: str) -> str:
    """Escape a post for a `verbatim` section, leaving its addresses and handles whole to copy.

    Slack never auto-links a `verbatim` text, so its escapes, the markers and the pings are enough.
    """
    return _escape(text, defuse=False)


def _escape(text: str, *, defuse: bool) -> str:
    escaped = _QUOTE.sub(rf"\1{_ZWSP}&gt;", text.translate(_ENTITIES))
    escaped = (_AUTOLINKS if defuse else _PING).sub(_WJ, escaped)
    return escaped.translate(_MARKERS)


def safe_url(url: str | None) -> str | None:
    """Return the URL if it is a plain http(s) address Slack accepts in a link or button."""
    if not url or len(url) > 3000 or any(c.isspace() or not c.isprintable() for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def link(url: str, label: str) -> str:
    """Return the mrkdwn link `<url|label>` for a `safe_url`, escaping both parts."""
    target = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{target}|{escape_mrkdwn(label)}>"


def slack_len(text: str) -> int:
    """Count characters the way Slack limits them: UTF-16 code units (an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int, more_url: str | None = None) -> str:
    """Cut escaped mrkdwn to at most `limit` characters, ending in "…" and a read-more link."""
    if slack_len(text) <= limit:
        return text
    url = safe_url(more_url)
    suffix = _ELLIPSIS + (f" {link(url, 'read more')}" if url else "")
    if slack_len(suffix) >= limit:
        suffix = _ELLIPSIS
    return text[: _cut(text, limit - slack_len(suffix))].rstrip() + suffix


def split(text: str, limit: int) -> list[str]:
    """Split escaped mrkdwn into pieces of at most `limit` characters, leaving nothing out."""
    pieces = []
    while slack_len(text) > limit:
        cut = _cut(text, limit) or 1
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def _cut(text: str, budget: int) -> int:
    """Return the longest prefix length within `budget` that splits no escape or character."""
    end = 0
    for char in text:
        budget -= slack_len(char)
        if budget < 0:
            break
        end += 1
    for atom in _ATOMS.finditer(text, max(0, end - _ATOM_MAX), end + _ATOM_MAX):
        if atom.start() < end < atom.end():
            end = atom.start()
    while 0 < end < len(text) and _continues(text[end - 1], text[end]):
        end -= 1
    return end


def _continues(before: str, char: str) -> bool:
    """Tell whether `char` belongs to the same visible character as `before`."""
    return bool(unicodedata.combining(char)) or char in _JOINED or before == "\u200d"

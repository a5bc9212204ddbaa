"""Saved replies (`playbooks/replies/*.md`) and how long a reply may be on each network: parse, check, fill in."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.crisis.playbooks import Problem
from bot.core.incoming import NETWORKS
from bot.core.views import network_label

REPLIES_DIR = "replies"  # beside the playbooks: `<playbooks dir>/replies/*.md`
LANGS = ("nl", "en")
PLACEHOLDERS = ("name", "handle", "agent")  # the author's display name, their handle (no @), who answers (first name)
FRONT_MATTER_KEYS = ("title", "lang", "networks")
MAX_REPLY_CHARS = 3000  # what every Answer dialog holds; Facebook (8,000), YouTube and Reddit (10,000) take more
# One reply on each network, as the network counts it; a network not listed takes MAX_REPLY_CHARS.
REPLY_LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500, "threads": 500, "tiktok": 150, "linkedin": 1250,
                "instagram": 2200}
TITLE_LIMIT = 60  # a title in a dialog's list, with the language after it

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PLACEHOLDER = re.compile(r"( ?)\{([^{}\s]*)\}")
_FENCE = "---"
_X_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_X_URL_WEIGHT = 23  # X counts every link as 23 characters, however long
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))  # count 1; anything else 2
_LINK_AS_23 = "x" * _X_URL_WEIGHT  # Mastodon too counts every link as 23 characters
_REMOTE_MENTION = re.compile(r"(?<![\w@.])@(\w+)@[\w.-]*\w")  # Mastodon counts @user@server as @user
# What a network could turn into a link, a mention or a tag when a customer's name is filled into a reply.
_LINKISH = re.compile(r"\S*[\w-]\.[a-z]{2,}\S*|\S*://\S*", re.IGNORECASE)
_LIVE_CHARS = re.compile(r"[@#$<>\[\]()*_`|\\/]")
_NAME_LIMIT = 60


@dataclass(frozen=True, slots=True)
class SavedReply:
    """One saved reply file: shown by its title, in one language, for some networks (none: every network)."""

    key: str
    path: str
    title: str
    lang: str
    text: str
    networks: tuple[str, ...] = ()

    def offered_on(self, network: str) -> bool:
        """Whether the Answer dialog of a mention on `network` offers this reply."""
        return not self.networks or network in self.networks

    @property
    def label(self) -> str:
        """How a dialog lists it: "Order delayed (NL)"."""
        return f"{self.title[:TITLE_LIMIT]} ({self.lang.upper()})"


def reply_limit(network: str) -> int:
    """How many characters one reply may have on `network`."""
    return REPLY_LIMITS.get(network, MAX_REPLY_CHARS)


def reply_length(network: str, text: str, *, to: str | None = None) -> int:
    """The length of `text` as `network` counts it: X counts links as 23 and most non-Latin characters twice;
    Mastodon counts links as 23, a remote @user@server as @user, and the `@user ` the bot puts in front of a
    reply that does not name its author (`to`, the author's handle)."""
    if network == "mastodon":
        counted = _REMOTE_MENTION.sub(r"@\1", _X_URL.sub(_LINK_AS_23, text))
        user = addressee(to)
        named = user and re.search(rf"(?<![\w@.])@{re.escape(user)}(?![\w-])", text, re.IGNORECASE)
        return len(counted) + (len(user) + 2 if user and not named else 0)
    if network != "x":
        return len(text)
    weights = sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _X_LIGHT) else 2 for ch in _X_URL.sub("", text))
    return weights + len(_X_URL.findall(text)) * _X_URL_WEIGHT


def addressee(handle: str | None) -> str:
    """The user name a Mastodon reply is addressed to (`@klant@mastodon.nl` → `klant`); "" when none."""
    return re.sub(r"\W", "", (handle or "").lstrip("@").split("@")[0])


def too_long(network: str, text: str) -> tuple[int, int] | None:
    """The limit and the length of `text` when it is too long for one reply on `network`, else None."""
    limit, length = reply_limit(network), reply_length(network, text)
    return (limit, length) if length > limit else None


def fill(text: str, *, name: str | None, handle: str | None, agent: str | None) -> str:
    """Fill in a saved reply's placeholders as plain words: nothing from a customer's name becomes a link or tag.

    An empty value takes the space before it along (`Hi {name},` → `Hi,`); `{name}` falls back to the handle.
    """
    handle_text = re.sub(r"[^\w.@-]", "", handle or "").lstrip("@")[:_NAME_LIMIT]
    values = {"name": _plain(name) or handle_text, "handle": handle_text, "agent": _plain((agent or "").split(" ")[0])}

    def value(match: re.Match[str]) -> str:
        if match.group(2) not in values:
            return match.group(0)
        filled = values[match.group(2)]
        return match.group(1) + filled if filled else ""

    return _PLACEHOLDER.sub(value, text)


def _plain(value: str | None) -> str:
    """A customer-controlled name as plain words: no controls, links, mentions, tags or markup characters."""
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in value or "")
    text = _LIVE_CHARS.sub(" ", _LINKISH.sub(" ", text))
    return " ".join(text.split())[:_NAME_LIMIT].strip()


def replies_dir(playbooks_dir: Path | str) -> Path:
    """Where the saved replies of a playbooks directory live."""
    return Path(playbooks_dir) / REPLIES_DIR


def reply_files(directory: Path | str) -> list[Path]:
    """The saved reply files in `directory`, sorted: every `*.md` but README.md."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def load_saved_replies(directory: Path | str) -> tuple[list[SavedReply], list[Problem]]:
    """Parse every saved reply in `directory` (none when it does not exist), with the problems of each file."""
    replies: list[SavedReply] = []
    problems: list[Problem] = []
    for path in reply_files(directory):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, f"cannot read the file: {exc}"))
            continue
        reply, found = parse_saved_reply(path, text)
        problems.extend(found)
        if reply is not None:
            replies.append(reply)
    return replies, problems


def saved_replies(directory: Path | str) -> tuple[SavedReply, ...]:
    """The valid saved replies in `directory`, read again only when a file there changed."""
    files = reply_files(directory)
    try:
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:  # a file went away while looking: read what is there now
        stamp = ()
    return _cached(str(directory), stamp)


@lru_cache(maxsize=8)
def _cached(directory: str, stamp: tuple[tuple[str, int, int], ...]) -> tuple[SavedReply, ...]:
    return tuple(load_saved_replies(directory)[0])


def parse_saved_reply(path: Path | str, text: str) -> tuple[SavedReply | None, list[Problem]]:
    """Parse and check one saved reply file; the reply is None whenever there is any problem."""
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(str(path), line, message))

    key = Path(path).stem
    if not _KEY.fullmatch(key):
        problem(1, f"the file name {key!r} must be lowercase letters, digits, - and _ (at most 64): it is the "
                   "reply's key")
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE or _FENCE not in (line.strip() for line in lines[1:]):
        problem(1, "missing front matter: the file must start with a `---` block holding `title` and `lang`")
        return None, problems
    end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == _FENCE)
    meta = _front_matter("\n".join(lines[1:end]), problem)
    body = "\n".join(lines[end + 1:]).strip()
    body_line = end + 2 + next((i for i, line in enumerate(lines[end + 1:]) if line.strip()), 0)
    if not body:
        problem(end + 1, "the reply text is empty: write it below the front matter")
    for number, line in enumerate(lines[end + 1:], end + 2):
        for match in _PLACEHOLDER.finditer(line):
            if match.group(2) not in PLACEHOLDERS:
                known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                problem(number, f"unknown placeholder {{{match.group(2)}}} (known: {known})")
    if meta is not None and body:
        bare = _PLACEHOLDER.sub("", body)  # each placeholder adds at least nothing
        for network in meta["networks"] or ("",):
            if over := too_long(network, bare):
                where = network_label(network) if network in REPLY_LIMITS else "A reply"
                problem(body_line, "the reply is too long even before its placeholders are filled in: "
                                   f"{where} allows {over[0]:,} characters; this reply has {over[1]:,}.")
                break
    if problems or meta is None:
        return None, problems
    return SavedReply(key=key, path=str(path), title=meta["title"], lang=meta["lang"], text=body,
                      networks=meta["networks"]), problems


def _front_matter(source: str, problem: Callable[[int, str], None]) -> dict[str, Any] | None:
    """`title`, `lang` and `networks` from the front matter's YAML, or None after reporting what is wrong."""
    try:
        tree = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem(2 + mark.line if mark is not None else 1,
                f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return None
    if not isinstance(data, dict) or not isinstance(tree, yaml.MappingNode):
        problem(1, "front matter must be `key: value` lines holding `title` and `lang`")
        return None
    line_of = {str(k.value): 2 + k.start_mark.line for k, _ in tree.value}
    count = 0

    def bad(line: int, message: str) -> None:
        nonlocal count
        count += 1
        problem(line, message)

    for unknown in [k for k in data if k not in FRONT_MATTER_KEYS]:
        bad(line_of.get(str(unknown), 1),
            f"unknown front matter key {unknown!r} (expected {', '.join(FRONT_MATTER_KEYS)})")
    title = data.get("title")
    if "title" not in data:
        bad(1, "front matter is missing 'title'")
    elif not isinstance(title, str) or not title.strip():
        bad(line_of["title"], f"title must be a non-empty text, not {title!r}")
    lang = data.get("lang")
    if "lang" not in data:
        bad(1, f"front matter is missing 'lang' (one of {' | '.join(LANGS)})")
    elif lang not in LANGS:
        bad(line_of["lang"], f"unknown lang {lang!r} (expected one of {' | '.join(LANGS)})")
    networks = data.get("networks", [])
    if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
        bad(line_of.get("networks", 1), f"networks must be a list of network names, not {networks!r}")
        networks = []
    for unknown in [n for n in networks if n not in NETWORKS]:
        bad(line_of["networks"], f"unknown network {unknown!r} (known: {', '.join(sorted(NETWORKS))})")
    if count:
        return None
    return {"title": title.strip(), "lang": lang, "networks": tuple(dict.fromkeys(networks))}


@dataclass(frozen=True, slots=True)
class ReplyOption:
    """A saved reply as one Answer dialog offers it: filled in for that mention and the person answering."""

    key: str
    label: str
    text: str

"""Priority of a mention (docs/contract.md §10): a 0–100 score with its reasons, and the level P1/P2/P3 it gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from bot.core.storms.sentiment import negative
from bot.core.storms.text import fold, stems

VIP_SCORE = 100  # a VIP is always P1
REACH_WEIGHT = 15  # for each reach threshold the author's followers pass
VERIFIED_WEIGHT = 25  # so the top reach bucket and verified make 3 × 15 + 25 = 70, P1 with the defaults
CRISIS_WEIGHT = 30  # linked to a running crisis
NEGATIVE_WEIGHT = 10  # a weak signal: a word list, see sentiment.py
MAX_SCORE = 100


class Level(StrEnum):
    """Priority level; P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Reason(StrEnum):
    """Why a mention scored, as stored with it (`mention.priority_reasons`): a code, with `:<value>` for followers
    (the count) and keywords (the keyword's name); the chat edges say them in the team's language."""

    VIP = "vip"
    FOLLOWERS = "followers"
    VERIFIED = "verified"
    KEYWORD = "keyword"
    CRISIS = "crisis"
    NEGATIVE = "negative"


class _Keyword(NamedTuple):
    name: str  # as written in webcare.toml
    stems: tuple[str, ...]
    weight: int


@dataclass(frozen=True, slots=True)
class PriorityRules:
    """The [priority] table of webcare.toml."""

    vip: frozenset[str] = frozenset()  # "network:handle", folded, the handle without a leading "@"
    reach: tuple[int, ...] = (1000, 10000, 100000)  # follower thresholds, ascending
    keywords: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # keyword or phrase → weight
    p1: int = 70
    p2: int = 40
    _by_first_stem: Mapping[str, tuple[_Keyword, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs = (entry.partition(":") for entry in self.vip)
        object.__setattr__(self, "vip", frozenset(vip_key(network, handle) for network, _, handle in pairs))
        object.__setattr__(self, "keywords", MappingProxyType(dict(self.keywords)))
        index: dict[str, tuple[_Keyword, ...]] = {}
        for name, weight in self.keywords.items():
            keyword = _Keyword(name, tuple(stems(name)), weight)
            if keyword.stems:
                index[keyword.stems[0]] = (*index.get(keyword.stems[0], ()), keyword)
        object.__setattr__(self, "_by_first_stem", MappingProxyType(index))

    def level(self, score: int) -> Level:
        """The level a score reaches."""
        return Level.P1 if score >= self.p1 else Level.P2 if score >= self.p2 else Level.P3

    def matched(self, text: str) -> list[str]:
        """The keywords (as written in the rules) that occur in the text, each once, heaviest first."""
        text_stems = stems(text)
        found: dict[str, _Keyword] = {}
        for at, first in enumerate(text_stems):
            for keyword in self._by_first_stem.get(first, ()):
                if keyword.name not in found and _occurs_at(keyword.stems, text_stems, at):
                    found[keyword.name] = keyword
        return [k.name for k in sorted(found.values(), key=lambda k: -k.weight)]


@dataclass(frozen=True, slots=True)
class Priority:
    """A mention's score, its level, and why."""

    score: int
    level: Level
    reasons: tuple[str, ...]


def score(rules: PriorityRules, *, network: str, handle: str | None, followers: int | None, verified: bool,
          text: str, crisis_linked: bool = False) -> Priority:
    """Score a mention by who wrote it, how far it reaches and what it says."""
    points, reasons = 0, []
    if handle and vip_key(network, handle) in rules.vip:
        points += VIP_SCORE
        reasons.append(Reason.VIP)
    passed = sum(1 for threshold in rules.reach if (followers or 0) >= threshold)
    if passed:
        points += passed * REACH_WEIGHT
        reasons.append(f"{Reason.FOLLOWERS}:{followers or 0}")
    if verified:
        points += VERIFIED_WEIGHT
        reasons.append(Reason.VERIFIED)
    for name in rules.matched(text):
        if rules.keywords[name]:
            points += rules.keywords[name]
            reasons.append(f"{Reason.KEYWORD}:{name}")
    if crisis_linked:
        points += CRISIS_WEIGHT
        reasons.append(Reason.CRISIS)
    if negative(text):
        points += NEGATIVE_WEIGHT
        reasons.append(Reason.NEGATIVE)
    points = min(points, MAX_SCORE)
    return Priority(score=points, level=rules.level(points), reasons=tuple(reasons))


def vip_key(network: str, handle: str) -> str:
    """How the VIP list names an author: `network:handle`, folded, without the handle's leading "@"."""
    return f"{fold(network)}:{fold(handle).lstrip('@')}"


def compact(count: int) -> str:
    """A follower count as people say it, never rounded up: 312, 1.2k, 12k, 250k, 1.2M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            tenths = count * 10 // size
            return f"{tenths // 10}{suffix}" if tenths >= 100 or tenths % 10 == 0 else f"{tenths / 10:.1f}{suffix}"
    return str(count)


def _occurs_at(phrase: Sequence[str], text_stems: Sequence[str], at: int) -> bool:
    return tuple(text_stems[at:at + len(phrase)]) == tuple(phrase)

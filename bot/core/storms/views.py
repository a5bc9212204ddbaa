"""What a storm card and a storm's member list show: platform-neutral, rendered by each chat edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from bot.core.views import CrisisTag, MentionState, PersonRef

RECENT_MINUTES = 10  # "recent" on a storm card: joined in the last this many minutes


class StormState(StrEnum):
    """Where a storm stands: gathering members (open, claimed), or handled for good (answered, dismissed)."""

    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class StormMember:
    """One mention of a storm, as its card's samples and its member list show it."""

    mention_id: int
    network: str
    author_handle: str | None
    author_followers: int | None
    text: str
    url: str | None
    state: MentionState
    priority_level: str
    own_card: bool  # a P1 member keeps its own card


@dataclass(frozen=True, slots=True)
class StormView:
    """Everything a storm card shows, at one moment."""

    storm_id: int
    state: StormState
    members: int
    recent: int  # joined in the last RECENT_MINUTES
    networks: tuple[tuple[str, int], ...]  # (network, members), most first
    authors: tuple[StormMember, ...]  # the biggest authors, most followers first
    samples: tuple[StormMember, ...]  # a few texts, each different
    own_cards: tuple[StormMember, ...]  # P1 members, shown on their own card too
    first_at: datetime
    last_at: datetime
    now: datetime
    claimed_by: PersonRef | None = None
    answer: str | None = None  # the text Answer all sent
    answered: int = 0  # members whose reply went out (or was answered by hand)
    failed: int = 0  # members whose reply could not be delivered
    waiting: int = 0  # members still open
    crisis: CrisisTag | None = None  # the crisis its members are linked to
    playbooks: tuple[tuple[str, str], ...] = ()  # (key, title) a crisis can be started on from the card

    @property
    def handled(self) -> bool:
        """Answered or dismissed: its buttons are gone."""
        return self.state in (StormState.ANSWERED, StormState.DISMISSED)


@dataclass(frozen=True, slots=True)
class StormMembers:
    """A storm's members, the most urgent first, for a private answer (at most `shown` of them listed)."""

    storm_id: int
    total: int
    members: tuple[StormMember, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One P3 mention in a digest: enough to judge it, and who holds it."""

    mention_id: int
    network: str
    author_handle: str | None
    text: str
    url: str | None
    state: MentionState
    claimed_by: PersonRef | None


@dataclass(frozen=True, slots=True)
class DigestView:
    """A minute's P3 mentions, gathered in one message while the channel's backlog is long."""

    minute: str  # "2026-11-20T10:31" (UTC)
    lines: tuple[DigestLine, ...]  # at most `DIGEST_LINES`, the highest score first
    total: int  # the minute's mentions; those beyond the lines are in /webcare queue
    now: datetime
    zone: tzinfo = UTC  # the team's time zone: the minute is said in it

    @property
    def at(self) -> datetime:
        """The moment the minute starts."""
        return datetime.strptime(self.minute, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)

    @property
    def more(self) -> int:
        """Mentions of the minute not listed as a line."""
        return self.total - len(self.lines)

"""Platform-neutral views of mentions, drafts and notices, rendered by each chat edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from bot.core.sla_clock import SlaClock

_NETWORK_NAMES = {"x": "X", "linkedin": "LinkedIn", "tiktok": "TikTok", "youtube": "YouTube"}


def network_label(network: str) -> str:
    """A network's name as people write it (x → X, linkedin → LinkedIn)."""
    return _NETWORK_NAMES.get(network, network[:1].upper() + network[1:])


class MentionState(StrEnum):
    """Where a mention is in its lifecycle (docs/contract.md §5)."""

    NEW = "new"
    CLAIMED = "claimed"
    ESCALATED = "escalated"
    AWAITING_APPROVAL = "awaiting_approval"
    ANSWERED = "answered"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class DraftState(StrEnum):
    """Where a reply draft is: waiting for a head, being delivered, delivered or failed."""

    AWAITING_APPROVAL = "awaiting_approval"
    CHANGES_REQUESTED = "changes_requested"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BY_HAND = "by_hand"


class DismissReason(StrEnum):
    """Why a mention needs no answer."""

    SPAM = "spam"
    NOT_RELEVANT = "not_relevant"
    HANDLED_ELSEWHERE = "handled_elsewhere"


@dataclass(frozen=True, slots=True)
class PersonRef:
    """Someone the bot can name: a webcare.toml person or a chat user it does not know."""

    key: str
    name: str
    chat_ids: tuple[tuple[str, str], ...] = ()  # (platform, user id) pairs: how each chat platform knows them

    @classmethod
    def chat_user(cls, platform: str, user_id: str, name: str | None = None) -> PersonRef:
        """A chat user nobody put in webcare.toml, known by their id on one platform (stored as `platform:id`)."""
        return cls(key=f"{platform}:{user_id}", name=name or user_id, chat_ids=((platform, user_id),))

    def chat_id(self, platform: str) -> str | None:
        """Their user id on this chat platform, if the bot knows it."""
        return next((user_id for on, user_id in self.chat_ids if on == platform), None)


@dataclass(frozen=True, slots=True)
class DepartmentView:
    """A department from webcare.toml with the heads who approve its replies."""

    key: str
    name: str
    heads: tuple[PersonRef, ...]


@dataclass(frozen=True, slots=True)
class DraftView:
    """A reply draft as shown in the card's thread."""

    id: int
    mention_id: int
    author: PersonRef
    text: str
    state: DraftState
    approvers: tuple[PersonRef, ...]
    decided_by: PersonRef | None = None
    note: str | None = None
    error: str | None = None
    manual: bool = False


@dataclass(frozen=True, slots=True)
class CrisisTag:
    """What a card shows of the crisis its mention is linked to (or may be linked to)."""

    id: int
    title: str
    drill: bool


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything a triage card shows about one mention, at one moment."""

    mention_id: int
    network: str
    url: str | None
    author_handle: str | None
    author_name: str | None
    author_url: str | None
    author_followers: int | None
    author_verified: bool
    text: str
    published_at: datetime
    state: MentionState
    now: datetime
    reply_via: str | None = None                  # the connector that sends replies (for the chat edges: None when
                                                  # this server has no such connector, so replies are posted by hand)
    claimed_by: PersonRef | None = None
    escalated_to: tuple[DepartmentView, ...] = ()
    draft: DraftView | None = None
    answered_by: PersonRef | None = None
    response_minutes: int | None = None
    dismissed_by: PersonRef | None = None
    dismissed_reason: DismissReason | None = None
    crisis: CrisisTag | None = None               # the crisis this mention is linked to
    linkable: tuple[CrisisTag, ...] = ()          # running crises it could be linked to by hand
    templates: tuple[str, ...] = ()               # holding statements its crisis has unlocked, for the Answer form
    crisis_rule: str | None = None                # what its crisis says about replying now, in one sentence
    crisis_approval: bool = False                 # a crisis lead other than the author approves each reply
    priority_level: str = "P3"                    # P1 is the most urgent
    priority_reasons: tuple[str, ...] = ()        # why, as stored: "followers:250000", "verified", "keyword:datalek"
    storm_id: int | None = None                   # the storm group it joined: its storm card shows it too
    lang: str | None = None                       # the post's language, as the source gave it
    saved_replies: tuple[tuple[str, str], ...] = ()  # (key, label) of the saved replies its Answer form offers
    clock: SlaClock | None = None                 # its first-response clock (working time), as of `now`
    zone: tzinfo = UTC                            # the team's time zone, for the clock's due time

    @property
    def age_minutes(self) -> int:
        """Whole minutes since the post was published."""
        return max(0, int((self.now - self.published_at).total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """The thread message that pulls department heads into a mention."""

    mention_id: int
    actor: PersonRef
    departments: tuple[DepartmentView, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class MineItem:
    """One of a person's open mentions, as `mine` lists it."""

    mention_id: int
    network: str
    author: str
    state: MentionState
    age_minutes: int
    url: str | None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One unclaimed mention, as `queue` lists the first few: most urgent, then oldest."""

    mention_id: int
    network: str
    author: str
    priority_level: str           # "P1"
    priority_reasons: tuple[str, ...]  # stored reason codes (bot.core.storms.priority.Reason)
    age_minutes: int
    url: str | None


@dataclass(frozen=True, slots=True)
class QueueReport:
    """How many mentions nobody has claimed (in all and by priority level), how old the oldest is, and the first few."""

    unclaimed: int
    oldest_age_minutes: int | None
    by_level: tuple[tuple[str, int], ...] = ()   # ("P1", 2), ("P3", 40): levels with unclaimed mentions, P1 first
    first: tuple[QueueItem, ...] = ()
    undelivered: tuple[UndeliveredItem, ...] = ()  # open again because the network refused the reply, claimed or not


@dataclass(frozen=True, slots=True)
class UndeliveredItem:
    """An open mention whose reply could not be delivered, as `queue` lists it until Retry or a new answer."""

    mention_id: int
    network: str
    author: str
    claimed_by: PersonRef | None
    url: str | None


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Volume, outcomes and first-response time over a period, against the SLA."""

    period: str
    volume: int
    answered: int
    dismissed: int
    median_first_response_minutes: float | None
    within_sla_share: float | None
    sla_minutes: int
    median_resolution_minutes: float | None = None  # arrival to answered, closed or dismissed, in working time

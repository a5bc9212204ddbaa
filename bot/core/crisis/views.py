"""Platform-neutral views of crises: the checklist, the banner, notices, and the tag on linked cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from bot.core.mentions import Phrase
from bot.core.views import CrisisTag, PersonRef


class StepStatus(StrEnum):
    """Where a step of a running crisis is."""

    DONE = "done"
    SKIPPED = "skipped"
    NEXT = "next"          # every earlier required step is done: it can be completed now
    WAITING = "waiting"    # an earlier required step is still open


class ReplyGate(StrEnum):
    """What replies to mentions linked to the crisis need right now."""

    LOCKED = "locked"      # waiting for the step that unlocks replies
    OPEN = "open"
    HOLD = "hold"          # the playbook holds every reply
    APPROVAL = "approval"  # a member of the lead role approves each reply
    DRILL = "drill"        # a drill gates nothing


@dataclass(frozen=True, slots=True)
class StepView:
    """One step as the checklist shows it."""

    id: str
    title: str
    owner_role: str
    owners: tuple[PersonRef, ...]
    status: StepStatus
    optional: bool
    unlocks_replies: bool
    due_at: datetime | None = None
    overdue: bool = False
    by: PersonRef | None = None
    at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ChecklistView:
    """A crisis at one moment: the playbook, its steps, the reply gate, and how it ended."""

    id: int
    playbook: str
    title: str
    severity: str
    version: str
    drill: bool
    started_at: datetime
    started_by: PersonRef
    lead_role: str
    leads: tuple[PersonRef, ...]
    steps: tuple[StepView, ...]
    gate: ReplyGate
    gate_step: StepView | None
    linked: int
    now: datetime
    note: str | None = None
    ended_at: datetime | None = None
    ended_by: PersonRef | None = None
    forced_reason: str | None = None
    private_channel: bool = True  # the playbook's `channel`: its own channel, where one is made, is members-only
    zone: tzinfo = UTC  # the team's time zone: the checklist's times are said in it

    @property
    def running(self) -> bool:
        """True until the crisis has ended."""
        return self.ended_at is None

    @property
    def tag(self) -> CrisisTag:
        """The short form shown on linked cards."""
        return CrisisTag(self.id, self.title, self.drill)

    @property
    def elapsed(self) -> timedelta:
        """Time since the start (until the end, once ended)."""
        return (self.ended_at or self.now) - self.started_at


@dataclass(frozen=True, slots=True)
class PlaybookSummary:
    """One line of `playbooks`: a playbook someone can start."""

    key: str
    title: str
    severity: str
    steps: int
    version: str


@dataclass(frozen=True, slots=True)
class PlaybookCatalogue:
    """The answer to `playbooks`."""

    playbooks: tuple[PlaybookSummary, ...]


@dataclass(frozen=True, slots=True)
class CrisisReminder:
    """An overdue step: remind its owners, or (past twice its due time) the lead."""

    crisis: CrisisTag
    step: StepView
    notify: tuple[PersonRef, ...]
    to_lead: bool
    now: datetime
    zone: tzinfo = UTC  # the team's time zone: the due time is said in it


@dataclass(frozen=True, slots=True)
class CrisisStarted:
    """The answer to `crisis start`: the new crisis."""

    checklist: ChecklistView


@dataclass(frozen=True, slots=True)
class CrisisChanged:
    """The answer to done / skip / end / link: what changed, in one sentence, and the crisis now."""

    message: Phrase
    checklist: ChecklistView


@dataclass(frozen=True, slots=True)
class CrisisReport:
    """A crisis' markdown timeline."""

    crisis_id: int
    markdown: str

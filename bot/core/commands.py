"""One frozen dataclass per user intent; the edges build them, the handlers carry them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.mentions import Actor
from bot.core.views import DismissReason


@dataclass(frozen=True, slots=True)
class Claim:
    """Take a mention so nobody else handles it."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Unclaim:
    """Give a mention back to the queue."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Escalate:
    """Pull departments in; their heads approve the reply."""

    mention_id: int
    actor: Actor
    departments: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PrepareAnswer:
    """Someone opened the Answer dialog: check they may, and say what the reply will need."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class SubmitReply:
    """Send (or submit for approval) a reply."""

    mention_id: int
    actor: Actor
    text: str


@dataclass(frozen=True, slots=True)
class Approve:
    """A department head lets a draft go out."""

    draft_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class RequestChanges:
    """A department head sends a draft back."""

    draft_id: int
    actor: Actor
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RetryDelivery:
    """Try a failed delivery again."""

    draft_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class RetryReply:
    """Try a mention's failed delivery again, from its card (which Teams redraws with the answer)."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Dismiss:
    """Close a mention that needs no answer."""

    mention_id: int
    actor: Actor
    reason: DismissReason


@dataclass(frozen=True, slots=True)
class Reopen:
    """Put a finished mention back in the queue."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class Close:
    """Mark an answered mention as finished."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowMine:
    """List the open mentions someone holds."""

    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowQueue:
    """Count the unclaimed mentions."""

    actor: Actor


@dataclass(frozen=True, slots=True)
class ShowStats:
    """Volume, response times and SLA for a period."""

    actor: Actor
    period: str = "today"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a crisis command was typed or clicked: a Slack channel, or a Teams conversation (thread)."""

    platform: str
    channel: str


@dataclass(frozen=True, slots=True)
class ListPlaybooks:
    """The playbooks a crisis can be started on."""

    actor: Actor


@dataclass(frozen=True, slots=True)
class StartCrisis:
    """Start a crisis (or a drill) on a playbook."""

    actor: Actor
    playbook: str
    note: str | None = None
    drill: bool = False


@dataclass(frozen=True, slots=True)
class ShowCrisis:
    """The checklist of the crisis of this place (or the only running one, or the one named)."""

    actor: Actor
    place: Place | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class CompleteStep:
    """Mark a step of a crisis done."""

    actor: Actor
    step: str
    note: str | None = None
    place: Place | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class SkipStep:
    """Skip an optional step of a crisis, with a reason."""

    actor: Actor
    step: str
    reason: str
    place: Place | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class EndCrisis:
    """End a crisis; before every required step is done, the lead forces it with a reason."""

    actor: Actor
    force_reason: str | None = None
    place: Place | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReportCrisis:
    """The markdown timeline of a crisis, posted to its room and stored."""

    actor: Actor
    place: Place | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class LinkMention:
    """Link a mention to a crisis by hand."""

    mention_id: int
    actor: Actor
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class UnlinkMention:
    """Take a mention out of its crisis."""

    mention_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class StartSpikeCrisis:
    """Start a crisis on a spike alert's playbook and link the spike's mentions to it."""

    alert_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class DismissSpike:
    """Answer a spike alert with "not now"."""

    alert_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class LearnChannel:
    """The bot was added to a team: its channel takes the cards while none is configured."""

    platform: str
    workspace: str
    channel: str
    name: str | None
    service_url: str
    reference: dict[str, Any]  # what the platform needs to post there later (Teams: the conversation reference)


@dataclass(frozen=True, slots=True)
class ClaimStorm:
    """Take a storm: its Answer all and Dismiss are then this person's."""

    storm_id: int
    actor: Actor


@dataclass(frozen=True, slots=True)
class AnswerStorm:
    """One reply to every open member of a storm (below P1), each delivered through its own connector."""

    storm_id: int
    actor: Actor
    text: str


@dataclass(frozen=True, slots=True)
class DismissStorm:
    """Dismiss every open member of a storm (below P1) with one reason."""

    storm_id: int
    actor: Actor
    reason: DismissReason


@dataclass(frozen=True, slots=True)
class ShowStorm:
    """The members of a storm, privately."""

    actor: Actor
    storm_id: int


@dataclass(frozen=True, slots=True)
class StartStormCrisis:
    """Start a crisis on a playbook and link every member of the storm to it."""

    storm_id: int
    actor: Actor
    playbook: str
    note: str | None = None

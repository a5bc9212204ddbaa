"""SLA clocks and reminders: when a mention's first response is due in working time, and who is reminded when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.sla_clock import SlaTargets
from bot.core.views import MentionState, PersonRef
from bot.core.working_time import WorkingHours

GATHER_FROM = 3  # this many reminders due at once (a storm): one message in the channel, not one per thread
RESOLVED_STATES = frozenset({MentionState.ANSWERED, MentionState.CLOSED, MentionState.DISMISSED})
APPROVAL_LEAD_FACTOR = 2  # a draft still unapproved after twice the claim reminder time: the leads are told


class SlaEvent(StrEnum):
    """What happened to a mention's clock; each is stored once per mention (and draft): `sla_event.kind`."""

    CLAIM_REMINDER = "claim_reminder"  # unclaimed past the claim reminder time: the webcare people were reminded
    WARNING = "warning"  # the warn_at share of the first response time passed (the claimant was reminded)
    BREACH = "breach"  # the first response time passed unanswered (the leads were told)
    APPROVAL_REMINDER = "approval_reminder"  # a draft waited for its heads: they were reminded
    APPROVAL_LEAD = "approval_lead"  # a draft still waited: the leads were told
    FIRST_RESPONSE = "first_response"  # a reply was delivered (or answered by hand)
    RESOLVED = "resolved"  # the mention was answered, closed or dismissed


REMINDERS = (SlaEvent.CLAIM_REMINDER, SlaEvent.WARNING, SlaEvent.BREACH, SlaEvent.APPROVAL_REMINDER,
             SlaEvent.APPROVAL_LEAD)


@dataclass(frozen=True, slots=True)
class OpenClock:
    """What the reminder check knows of one mention without a first response."""

    mention_id: int
    received_at: datetime
    state: str  # MentionState value
    claimed_by: str | None  # the person key holding it
    done: frozenset[SlaEvent]  # its reminders already sent
    storm_id: int | None = None  # its storm, when the storm's card shows it instead of a card of its own


@dataclass(frozen=True, slots=True)
class WaitingDraft:
    """A draft waiting for a department head's approval."""

    mention_id: int
    draft_id: int
    created_at: datetime
    approvers: tuple[str, ...]  # the heads' person keys
    done: frozenset[SlaEvent]


@dataclass(frozen=True, slots=True)
class Due:
    """A reminder that is due now: what happened, to which mention (and draft), and who is told (person keys)."""

    event: SlaEvent
    mention_id: int
    to: tuple[str, ...]
    due_at: datetime  # the moment it became due
    draft_id: int = 0
    redraw: bool = False  # the card's clock changes at this moment (warn, breach): draw it again
    storm_id: int | None = None  # the storm whose card shows the mention (it has no card of its own)


def due_for_mention(clock: OpenClock, now: datetime, *, hours: WorkingHours, targets: SlaTargets,
                    webcare: tuple[str, ...], leads: tuple[str, ...]) -> list[Due]:
    """The reminders of a mention without a first response that are due at `now` and were not sent: unclaimed →
    the webcare people; claimed at warn_at → the claimant; at breach → the leads (the card shows it either way)."""
    due: list[Due] = []
    storm = clock.storm_id
    claim_at = hours.deadline(clock.received_at, targets.claim_reminder_minutes)
    if clock.claimed_by is None and SlaEvent.CLAIM_REMINDER not in clock.done and now >= claim_at:
        due.append(Due(SlaEvent.CLAIM_REMINDER, clock.mention_id, webcare, claim_at, storm_id=storm))
    warn_at = hours.deadline(clock.received_at, targets.warn_minutes)
    if SlaEvent.WARNING not in clock.done and now >= warn_at:
        to = () if clock.claimed_by is None else (clock.claimed_by,)
        due.append(Due(SlaEvent.WARNING, clock.mention_id, to, warn_at, redraw=True, storm_id=storm))
    breach_at = hours.deadline(clock.received_at, targets.first_response_minutes)
    if SlaEvent.BREACH not in clock.done and now >= breach_at:
        due.append(Due(SlaEvent.BREACH, clock.mention_id, leads, breach_at, redraw=True, storm_id=storm))
    return due


def one_per_storm(due: list[Due]) -> list[Due]:
    """The reminders to send: a storm's members (shown on its card alone) are reminded of as one, by the first of
    them that is due; every other mention on its own."""
    seen: set[tuple[int, SlaEvent]] = set()
    kept = []
    for reminder in due:
        if reminder.storm_id is not None:
            if (reminder.storm_id, reminder.event) in seen:
                continue
            seen.add((reminder.storm_id, reminder.event))
        kept.append(reminder)
    return kept


def due_for_draft(draft: WaitingDraft, now: datetime, *, hours: WorkingHours, targets: SlaTargets,
                  leads: tuple[str, ...]) -> list[Due]:
    """The reminders of a draft waiting for approval: after the claim reminder time its heads, after twice that
    the leads (in working time since it was written)."""
    due: list[Due] = []
    heads_at = hours.deadline(draft.created_at, targets.claim_reminder_minutes)
    if SlaEvent.APPROVAL_REMINDER not in draft.done and now >= heads_at:
        due.append(Due(SlaEvent.APPROVAL_REMINDER, draft.mention_id, draft.approvers, heads_at, draft.draft_id))
    leads_at = hours.deadline(draft.created_at, targets.claim_reminder_minutes * APPROVAL_LEAD_FACTOR)
    if SlaEvent.APPROVAL_LEAD not in draft.done and now >= leads_at:
        due.append(Due(SlaEvent.APPROVAL_LEAD, draft.mention_id, leads, leads_at, draft.draft_id))
    return due


@dataclass(frozen=True, slots=True)
class ReminderView:
    """One reminder as a chat edge shows it: in the card's thread, or as a line of a gathered message."""

    event: SlaEvent
    mention_id: int
    to: tuple[PersonRef, ...]
    due_at: datetime  # the first response deadline (for drafts: when the heads were due to approve)
    now: datetime
    minutes: int  # unclaimed/waiting for so many working minutes, or overdue by so many
    summary: str = ""  # for a gathered line: the mention in a few words ("X @klant: 'waar blijft…'")

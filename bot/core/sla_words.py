"""SLA clocks and reminders in words, from the message catalogue: "12 min left · due 14:30", "overdue 5 min"."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from bot.core.catalogue import Words
from bot.core.clock_words import moment, span
from bot.core.sla import ReminderView, SlaEvent
from bot.core.sla_clock import ClockStage, SlaClock

_REMINDERS = {
    SlaEvent.CLAIM_REMINDER: "clock.claim_reminder",
    SlaEvent.WARNING: "clock.warning",
    SlaEvent.BREACH: "clock.breach",
    SlaEvent.APPROVAL_REMINDER: "clock.approval_reminder",
    SlaEvent.APPROVAL_LEAD: "clock.approval_lead",
}
_LINES = {
    SlaEvent.CLAIM_REMINDER: "clock.line_claim_reminder",
    SlaEvent.WARNING: "clock.line_warning",
    SlaEvent.BREACH: "clock.line_breach",
    SlaEvent.APPROVAL_REMINDER: "clock.line_approval_reminder",
    SlaEvent.APPROVAL_LEAD: "clock.line_approval_lead",
}


def _span(minutes: int, say: Words) -> str:
    return span(timedelta(minutes=minutes), say)


def clock_line(clock: SlaClock | None, now: datetime, zone: tzinfo, say: Words) -> str | None:
    """The card's clock while a first response is owed: time left (or when it runs again) and the due time, or
    how long overdue; None once answered, closed or dismissed."""
    if clock is None or clock.stage not in (ClockStage.RUNNING, ClockStage.WARNING, ClockStage.OVERDUE):
        return None
    due = moment(clock.due_at, now=now, zone=zone, say=say, relative=False)
    time = _span(clock.minutes, say)
    if clock.stage is ClockStage.OVERDUE:
        return say("clock.overdue", time=time, due=due)
    if clock.resumes_at is not None:
        resumes = moment(clock.resumes_at, now=now, zone=zone, say=say, relative=False)
        return say("clock.left_paused", time=time, resumes=resumes)
    return say("clock.left", time=time, due=due)


def reminder_text(view: ReminderView, people: str, zone: tzinfo, say: Words) -> str:
    """A reminder for the card's thread; `people` is the edge's @mentions of those it names."""
    return say(_REMINDERS[view.event], people=people, time=_span(view.minutes, say), due=_due(view, zone, say))


def reminder_line(view: ReminderView, mention: str, people: str, zone: tzinfo, say: Words) -> str:
    """A reminder as a line of a storm's gathered message; `mention` is the edge's escaped summary."""
    return say(_LINES[view.event], mention=mention, people=people, time=_span(view.minutes, say),
               due=_due(view, zone, say))


def gathered_title(count: int, say: Words) -> str:
    """The head of a storm's gathered reminders: "5 mentions need attention"."""
    return say("clock.gathered_title", count=count)


def _due(view: ReminderView, zone: tzinfo, say: Words) -> str:
    return moment(view.due_at, now=view.now, zone=zone, say=say, relative=False)

"""A mention's first-response clock: counted from arrival in working time, stopped by the first delivered reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.working_time import WorkingHours


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """The team's promises ([sla] in webcare.toml), in working minutes."""

    first_response_minutes: int = 60
    claim_reminder_minutes: int = 15
    warn_at: float = 0.75

    @property
    def warn_minutes(self) -> float:
        """When the claimant is reminded: this share of the first response time."""
        return self.first_response_minutes * self.warn_at


class ClockStage(StrEnum):
    """Where a mention's first-response clock stands."""

    RUNNING = "running"  # time left
    WARNING = "warning"  # past warn_at, time still left
    OVERDUE = "overdue"  # no first response and the time is up
    MET = "met"  # answered within the time
    LATE = "late"  # answered, after the time was up
    STOPPED = "stopped"  # closed or dismissed without a reply: nothing is owed


@dataclass(frozen=True, slots=True)
class SlaClock:
    """A mention's first-response clock at one moment, in working minutes (the card says it in words)."""

    stage: ClockStage
    due_at: datetime  # when the first response time runs out (UTC)
    minutes: int  # RUNNING/WARNING: left; OVERDUE: over; MET/LATE: taken; STOPPED: 0
    resumes_at: datetime | None = None  # RUNNING/WARNING outside working hours: when the clock runs again


def first_response_clock(received_at: datetime, responded_at: datetime | None, now: datetime, *, ended: bool,
                         hours: WorkingHours, targets: SlaTargets) -> SlaClock:
    """The clock of a mention that arrived at `received_at`: counting from arrival in working time, stopped by the
    first delivered reply (or one answered by hand) at `responded_at`; `ended` says it was closed or dismissed."""
    due = hours.deadline(received_at, targets.first_response_minutes)
    if responded_at is not None:
        taken = _minutes(hours.seconds_between(received_at, responded_at))
        return SlaClock(ClockStage.MET if responded_at <= due else ClockStage.LATE, due, taken)
    if ended:
        return SlaClock(ClockStage.STOPPED, due, 0)
    if now >= due:
        return SlaClock(ClockStage.OVERDUE, due, _minutes(hours.seconds_between(due, now)))
    warned = now >= hours.deadline(received_at, targets.warn_minutes)
    resumes = None if hours.is_working(now) else hours.next_opening(now)
    left = -(-int(hours.seconds_between(now, due)) // 60)  # rounded up: "1 min left" until it is over
    return SlaClock(ClockStage.WARNING if warned else ClockStage.RUNNING, due, left, resumes)


def _minutes(seconds: float) -> int:
    return int(seconds // 60)

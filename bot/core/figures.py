"""Response figures of a set of mentions by arrival: volume, median time to first response, share within the SLA."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.views import MentionState
from bot.core.working_time import WorkingHours


@dataclass(frozen=True, slots=True)
class ResponseFigures:
    """How a set of mentions was answered."""

    volume: int
    answered: int
    dismissed: int
    median_first_response_minutes: float | None  # real time, nights included; None when none was answered
    within_sla_share: float | None  # answered within the SLA in working time, of those needing an answer


def median_working_minutes(spans: Iterable[tuple[datetime, datetime]], hours: WorkingHours) -> float | None:
    """The median of these (start, end) spans in working minutes (the resolution clock); None when there are none."""
    minutes = [hours.seconds_between(start, end) / 60 for start, end in spans]
    return round(statistics.median(minutes), 1) if minutes else None


def response_figures(rows: Iterable[tuple[datetime, datetime | None, str]], *, sla_minutes: int,
                     hours: WorkingHours) -> ResponseFigures:
    """The figures of these (arrival, first response, state) rows; the SLA clock runs in working hours only."""
    rows = list(rows)
    answered = [(arrived, first) for arrived, first, _ in rows if first is not None]
    waits = [(first - arrived).total_seconds() / 60 for arrived, first in answered]
    in_time = sum(1 for arrived, first in answered if hours.seconds_between(arrived, first) <= sla_minutes * 60)
    dismissed = sum(1 for *_, state in rows if state == MentionState.DISMISSED)
    needing_answer = len(rows) - dismissed
    return ResponseFigures(
        volume=len(rows), answered=len(waits), dismissed=dismissed,
        median_first_response_minutes=round(statistics.median(waits), 1) if waits else None,
        within_sla_share=in_time / needing_answer if needing_answer else None)

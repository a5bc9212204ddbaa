"""The leads' daily summary: when it is due on the team's calendar, which mentions are overdue, what it says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.core.catalogue import Words
from bot.core.clock_words import day_start, day_words
from bot.core.views import PersonRef
from bot.core.working_time import WorkingHours


def summary_day(now: datetime, hours: WorkingHours) -> date | None:
    """The team's date whose summary is due at `now`: today, from the day's opening (midnight around the clock)
    until it closes; None before the opening, after closing and on a day off."""
    today = now.astimezone(hours.zone).date()
    if hours.always:
        return today
    opens, closes = next(hours.periods(day_start(now, hours.zone)))
    return today if opens <= now.astimezone(UTC) < closes else None


def overdue_count(clocks: Iterable[tuple[datetime, datetime | None]], now: datetime, hours: WorkingHours,
                  sla_minutes: int) -> int:
    """How many of these open mentions (arrival, first response) have had no first response within the SLA,
    counted in working time."""
    return sum(1 for arrived, first in clocks if first is None and hours.deadline(arrived, sla_minutes) <= now)


@dataclass(frozen=True, slots=True)
class DailySummaryView:
    """Yesterday's figures (by arrival, on the team's calendar) and the queue as the working day starts."""

    day: date  # the day summarised
    volume: int
    median_first_response_minutes: float | None
    within_sla_share: float | None
    sla_minutes: int
    open: int
    overdue: int
    leads: tuple[PersonRef, ...] = ()


def daily_numbers(view: DailySummaryView, say: Words) -> str:
    """The figures in words, as plain text (renderers escape it): "Yesterday (Mon 7 Dec): 42 mentions · first response
    median 18 min · 88% within 60 min · now open 5, overdue 2"."""
    parts = [say("daily.mentions", count=view.volume)]
    if view.median_first_response_minutes is not None:
        parts.append(say("daily.median", minutes=round(view.median_first_response_minutes)))
    elif view.volume:
        parts.append(say("daily.none_answered"))
    if view.within_sla_share is not None:
        parts.append(say("daily.within_sla", share=f"{view.within_sla_share:.0%}", minutes=view.sla_minutes))
    parts.append(say("daily.now_open", open=view.open, overdue=view.overdue))
    return say("daily.yesterday", day=day_words(view.day, say), figures=" · ".join(parts))

"""Core: when the leads' daily summary is due on the team's calendar, which open mentions are overdue, its words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.catalogue import words
from bot.core.daily import DailySummaryView, daily_numbers, overdue_count, summary_day
from bot.core.working_time import WorkingHours, parse_hours

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = parse_hours({"mon-fri": "08:00-22:00"}, AMS)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


def test_due_from_the_days_opening_until_it_closes_and_not_on_a_day_off():
    assert summary_day(local(2026, 12, 8, 7, 59), WEEKDAYS) is None
    assert summary_day(local(2026, 12, 8, 8, 0), WEEKDAYS) == date(2026, 12, 8)
    assert summary_day(local(2026, 12, 8, 21, 59), WEEKDAYS) == date(2026, 12, 8)
    assert summary_day(local(2026, 12, 8, 22, 0), WEEKDAYS) is None
    assert summary_day(local(2026, 12, 12, 11, 0), WEEKDAYS) is None  # Saturday
    # The Monday after the clocks went forward: 08:00 is 06:00 UTC, not 07:00.
    assert summary_day(datetime(2026, 3, 30, 6, 0, tzinfo=UTC), WEEKDAYS) == date(2026, 3, 30)
    assert summary_day(datetime(2026, 3, 30, 5, 59, tzinfo=UTC), WEEKDAYS) is None


def test_around_the_clock_the_day_starts_at_midnight_in_the_team_zone():
    always = WorkingHours(zone=AMS)
    assert summary_day(datetime(2026, 12, 7, 23, 0, tzinfo=UTC), always) == date(2026, 12, 8)  # 00:00 in Amsterdam
    assert summary_day(datetime(2026, 12, 7, 22, 59, tzinfo=UTC), always) == date(2026, 12, 7)


def test_overdue_counts_working_time_and_only_mentions_without_a_first_response():
    now = local(2026, 12, 8, 8, 30)
    friday_night = local(2026, 12, 4, 23, 0)  # its clock ran Monday 08:00-09:00: overdue
    last_evening = local(2026, 12, 7, 21, 30)  # 30 min on Monday, 30 min this morning: due right now
    this_morning = local(2026, 12, 8, 8, 10)
    answered = (local(2026, 12, 7, 9, 0), local(2026, 12, 7, 9, 5))
    clocks = [(friday_night, None), (last_evening, None), (this_morning, None), answered]
    assert overdue_count(clocks, now, WEEKDAYS, 60) == 2
    assert overdue_count(clocks, now - timedelta(seconds=1), WEEKDAYS, 60) == 1


def test_the_words_leave_out_what_there_is_none_of():
    view = DailySummaryView(day=date(2026, 12, 7), volume=42, median_first_response_minutes=17.6,
                            within_sla_share=0.88, sla_minutes=60, open=5, overdue=2)
    assert daily_numbers(view, words("en")) == ("Yesterday (Mon 7 Dec): 42 mentions · first response median 18 min"
                                                " · 88% within 60 min · now open 5, overdue 2")
    quiet = DailySummaryView(day=date(2026, 12, 6), volume=0, median_first_response_minutes=None,
                             within_sla_share=None, sla_minutes=60, open=0, overdue=0)
    assert daily_numbers(quiet, words("en")) == "Yesterday (Sun 6 Dec): 0 mentions · now open 0, overdue 0"
    assert daily_numbers(view, words("nl")) == ("Gisteren (ma 7 dec): 42 vermeldingen · mediaan eerste reactie 18 min"
                                                " · 88% binnen 60 min · nu open 5, te laat 2")

"""Core: working time — SLA clocks count only inside the team's hours, across nights, weekends and DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.catalogue import words
from bot.core.clock_words import day_start, figure, moment, span, stamp
from bot.core.working_time import HoursError, WorkingHours, parse_hours

AMS = ZoneInfo("Europe/Amsterdam")
DUTCH_WEEK = {"mon-fri": "08:00-22:00", "sat-sun": "10:00-18:00"}
HOURS = parse_hours(DUTCH_WEEK, AMS)
ALWAYS = WorkingHours(zone=AMS)
EN, NL = words("en"), words("nl")
# 2026: the clocks go forward on Sunday 29 March (02:00 CET → 03:00 CEST) and back on Sunday 25 October
# (03:00 CEST → 02:00 CET).


def local(*parts: int) -> datetime:
    """A moment on the Amsterdam wall clock (the first one when it shows the time twice)."""
    return datetime(*parts, tzinfo=AMS)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now  # in UTC, so that advancing it adds real time, not wall-clock time

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_an_hour_of_working_time_on_a_weekday_is_an_hour():
    start = local(2026, 12, 8, 10, 0)  # Tuesday
    assert HOURS.deadline(start, 60) == local(2026, 12, 8, 11, 0)
    assert HOURS.seconds_between(start, local(2026, 12, 8, 11, 0)) == 3600
    assert HOURS.is_working(start) and HOURS.next_opening(start) == start


def test_the_clock_stops_at_closing_and_runs_on_at_the_next_opening():
    start = local(2026, 12, 8, 21, 30)  # Tuesday, half an hour before closing
    assert HOURS.deadline(start, 60) == local(2026, 12, 9, 8, 30)
    assert HOURS.seconds_between(start, local(2026, 12, 9, 8, 30)) == 3600
    assert not HOURS.is_working(local(2026, 12, 8, 22, 0))  # closing time is outside
    assert HOURS.next_opening(local(2026, 12, 8, 23, 0)) == local(2026, 12, 9, 8, 0)


def test_a_mention_that_arrives_at_night_starts_its_clock_at_opening():
    arrived = local(2026, 12, 9, 3, 12)  # Wednesday night
    assert not HOURS.is_working(arrived)
    assert HOURS.next_opening(arrived) == local(2026, 12, 9, 8, 0)
    assert HOURS.deadline(arrived, 60) == local(2026, 12, 9, 9, 0)
    assert HOURS.deadline(arrived, 0) == local(2026, 12, 9, 8, 0)
    assert HOURS.seconds_between(arrived, local(2026, 12, 9, 7, 59)) == 0


def test_the_weekend_has_its_own_hours_and_a_closed_day_is_skipped():
    friday_evening = local(2026, 12, 11, 21, 45)
    assert HOURS.deadline(friday_evening, 60) == local(2026, 12, 12, 10, 45)  # 15 min Friday, 45 min Saturday
    assert HOURS.seconds_between(friday_evening, local(2026, 12, 14, 9, 0)) == (15 + 8 * 60 * 2 + 60) * 60
    weekdays_only = parse_hours({"mon-fri": "09:00-17:00"}, AMS)
    assert weekdays_only.next_opening(local(2026, 12, 12, 12, 0)) == local(2026, 12, 14, 9, 0)
    assert weekdays_only.deadline(local(2026, 12, 11, 16, 30), 60) == local(2026, 12, 14, 9, 30)


def test_around_the_clock_counts_real_time_even_on_the_night_the_clocks_go_forward():
    saturday_noon, sunday_noon = local(2026, 3, 28, 12, 0), local(2026, 3, 29, 12, 0)
    assert ALWAYS.seconds_between(saturday_noon, sunday_noon) == 23 * 3600  # the night was an hour short
    assert ALWAYS.deadline(saturday_noon, 24 * 60) == local(2026, 3, 29, 13, 0)
    assert ALWAYS.is_working(local(2026, 3, 29, 2, 30)) and ALWAYS.next_opening(sunday_noon) == sunday_noon


def test_around_the_clock_on_the_night_the_clocks_go_back_has_an_hour_more():
    saturday_noon, sunday_noon = local(2026, 10, 24, 12, 0), local(2026, 10, 25, 12, 0)
    assert ALWAYS.seconds_between(saturday_noon, sunday_noon) == 25 * 3600
    assert ALWAYS.deadline(saturday_noon, 24 * 60) == local(2026, 10, 25, 11, 0)


def test_opening_hours_follow_the_wall_clock_across_both_dst_changes():
    # Saturday 28 March 17:30 CET, 60 minutes: 30 on Saturday, 30 from Sunday's opening at 10:00 CEST.
    assert HOURS.deadline(local(2026, 3, 28, 17, 30), 60) == utc(2026, 3, 29, 8, 30)
    assert HOURS.next_opening(local(2026, 3, 28, 19, 0)) == utc(2026, 3, 29, 8, 0)  # 10:00 CEST
    assert HOURS.next_opening(local(2026, 10, 24, 19, 0)) == utc(2026, 10, 25, 9, 0)  # 10:00 CET
    # Each Sunday is 8 hours of work, though the day itself is 23 and 25 hours long.
    for sunday in ((2026, 3, 29), (2026, 10, 25)):
        assert HOURS.seconds_between(local(*sunday, 0, 0), local(*sunday, 23, 0)) == 8 * 3600


def test_hours_that_span_the_changed_hour_are_an_hour_shorter_or_longer():
    nights = parse_hours({"sun": "00:00-24:00"}, AMS)
    assert nights.seconds_between(utc(2026, 3, 28), utc(2026, 3, 30)) == 23 * 3600
    assert nights.seconds_between(utc(2026, 10, 24), utc(2026, 10, 26)) == 25 * 3600
    skipped = parse_hours({"sun": "02:30-05:00"}, AMS)  # 02:30 never shows on 29 March: work starts at 03:00
    assert skipped.next_opening(local(2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert skipped.seconds_between(utc(2026, 3, 28), utc(2026, 3, 30)) == 2 * 3600
    twice = parse_hours({"sun": "01:00-02:30"}, AMS)  # 02:30 shows twice on 25 October: work stops the first time
    assert twice.seconds_between(utc(2026, 10, 24), utc(2026, 10, 26)) == 90 * 60


def test_a_deadline_across_the_dst_night_lands_where_a_controllable_clock_says_it_breaches():
    clock = Clock(utc(2026, 10, 24, 15, 0))  # Saturday 17:00 CEST, an hour before closing; the clocks go back tonight
    due = HOURS.deadline(clock(), 90)
    assert due == utc(2026, 10, 25, 9, 30)  # Sunday 10:30 CET
    clock.advance(hours=18, minutes=29)  # real time: the night had an extra hour
    assert clock() < due and HOURS.seconds_between(local(2026, 10, 24, 17, 0), clock()) == 89 * 60
    clock.advance(minutes=1)
    assert clock() == due and HOURS.seconds_between(local(2026, 10, 24, 17, 0), clock()) == 90 * 60


@pytest.mark.parametrize(("table", "key", "problem"), [
    ({}, "", "names no day"),
    ({"weekdays": "08:00-22:00"}, "weekdays", "is not a day or a range of days"),
    ({"fri-mon": "08:00-22:00"}, "fri-mon", "a range runs forward within the week"),
    ({"mon-fri": "08:00-22:00", "fri": "10:00-12:00"}, "fri", "fri is already given by 'mon-fri'"),
    ({"mon": "8-22"}, "mon", 'must be "HH:MM-HH:MM"'),
    ({"mon": 8}, "mon", 'must be "HH:MM-HH:MM"'),
    ({"mon": "08:00-25:00"}, "mon", "is not a time of day"),
    ({"mon": "08:60-20:00"}, "mon", "is not a time of day"),
    ({"mon": "22:00-08:00"}, "mon", "must start before it ends"),
    ({"mon": "08:00-08:00"}, "mon", "must start before it ends"),
])
def test_bad_hours_are_refused_naming_the_entry(table, key, problem):
    with pytest.raises(HoursError, match=problem) as caught:
        parse_hours(table, AMS)
    assert caught.value.key == key


def test_midnight_may_close_a_day_and_ranges_cover_each_day_once():
    hours = parse_hours({"mon-wed": "09:00-24:00", "thu": "09:00-17:00"}, AMS)
    assert hours.deadline(local(2026, 12, 9, 23, 30), 60) == local(2026, 12, 10, 9, 30)  # Wednesday → Thursday
    assert sorted(hours.days) == [0, 1, 2, 3]


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="naive"):
        HOURS.is_working(datetime(2026, 12, 8, 10, 0))


def test_times_are_said_in_the_team_zone_with_the_day_when_it_is_not_today():
    now = local(2026, 12, 7, 22, 0)  # Monday evening
    assert moment(local(2026, 12, 7, 22, 10), now=now, zone=AMS, say=EN) == "22:10"
    assert moment(local(2026, 12, 8, 6, 17), now=now, zone=AMS, say=EN) == "06:17 tomorrow"
    assert moment(local(2026, 12, 8, 6, 17), now=now, zone=AMS, say=EN, relative=False) == "06:17 on Tue 8 Dec"
    assert moment(local(2026, 12, 6, 9, 0), now=now, zone=AMS, say=EN) == "09:00 yesterday"
    assert moment(local(2026, 12, 10, 9, 0), now=now, zone=AMS, say=EN) == "09:00 on Thu 10 Dec"
    assert moment(local(2027, 1, 2, 9, 0), now=now, zone=AMS, say=EN) == "09:00 on Sat 2 Jan 2027"
    assert moment(utc(2026, 12, 7, 23, 30), now=utc(2026, 12, 7, 12, 0), zone=UTC, say=EN) == "23:30 UTC"
    assert moment(utc(2026, 12, 7, 23, 30), now=now, zone=AMS, say=EN) == "00:30 tomorrow"  # UTC's today is not ours
    assert stamp(utc(2026, 3, 29, 1, 30), AMS) == "2026-03-29 03:30 CEST"
    assert stamp(utc(2026, 3, 29, 0, 30), AMS) == "2026-03-29 01:30 CET"


def test_times_and_figures_are_said_in_dutch_for_a_dutch_team():
    now = local(2026, 12, 7, 22, 0)  # Monday evening
    assert moment(local(2026, 12, 8, 6, 17), now=now, zone=AMS, say=NL) == "06:17 morgen"
    assert moment(local(2026, 12, 6, 9, 0), now=now, zone=AMS, say=NL) == "09:00 gisteren"
    assert moment(local(2026, 12, 8, 6, 17), now=now, zone=AMS, say=NL, relative=False) == "06:17 op di 8 dec"
    assert moment(local(2027, 3, 2, 9, 0), now=now, zone=AMS, say=NL) == "09:00 op di 2 mrt 2027"
    assert span(timedelta(minutes=65), NL) == "1 u 05 min"
    assert span(timedelta(minutes=120), EN) == "2 h"
    assert (figure(12345, NL), figure(2.5, NL), figure(10.0, NL)) == ("12.345", "2,5", "10")
    assert (figure(12345, EN), figure(2.5, EN)) == ("12,345", "2.5")


def test_the_team_day_starts_at_its_own_midnight():
    half_past_midnight = local(2026, 3, 29, 0, 30)  # 23:30 UTC on the 28th
    assert day_start(half_past_midnight, AMS) == utc(2026, 3, 28, 23, 0)
    assert day_start(half_past_midnight, UTC) == utc(2026, 3, 28, 0, 0)
    assert day_start(local(2026, 3, 30, 9, 0), AMS, days_ago=1) == utc(2026, 3, 28, 23, 0)  # the 23-hour day
    assert day_start(local(2026, 3, 30, 9, 0), AMS) == utc(2026, 3, 29, 22, 0)

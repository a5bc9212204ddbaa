"""Dates, times and figures as the team reads them: in its time zone and language, with the day when not today."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.core.catalogue import Words
from bot.core.working_time import wall_clock

_DAYS = ("time.mon", "time.tue", "time.wed", "time.thu", "time.fri", "time.sat", "time.sun")
_MONTHS = ("time.jan", "time.feb", "time.mar", "time.apr", "time.may", "time.jun", "time.jul", "time.aug",
           "time.sep", "time.oct", "time.nov", "time.dec")


def moment(at: datetime, *, now: datetime, zone: tzinfo, say: Words, relative: bool = True) -> str:
    """Say when `at` is, to follow "due" or "at": "14:30" today, "06:17 tomorrow", "22:05 yesterday", else
    "06:17 on Tue 8 Dec" (with the year when not this year's); "UTC" follows the time when the team named no zone.

    A card that stays in the channel says the date instead of "tomorrow" (`relative=False`): it may still be
    read after midnight.
    """
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}" + (" UTC" if keeps_utc(zone) else "")
    days = (local.date() - today).days
    if days == 0:
        return clock
    if relative and days == 1:
        return say("time.tomorrow", clock=clock)
    if relative and days == -1:
        return say("time.yesterday", clock=clock)
    return say("time.on_day", clock=clock, date=day_words(local.date(), say, year=local.year != today.year))


def day_words(day: date, say: Words, *, year: bool = False) -> str:
    """A date as a message names it: "Tue 8 Dec" ("di 8 dec"), with the year if asked."""
    text = f"{say(_DAYS[day.weekday()])} {day.day} {say(_MONTHS[day.month - 1])}"
    return f"{text} {day.year}" if year else text


def span(delta: timedelta, say: Words) -> str:
    """A length of time in minutes, or hours and minutes: "45 min", "2 h", "1 h 05 min"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return say("time.minutes", minutes=minutes)
    hours, rest = divmod(minutes, 60)
    return say("time.hours_minutes", hours=hours, minutes=f"{rest:02d}") if rest else say("time.hours", hours=hours)


def figure(value: float, say: Words) -> str:
    """A number as people read it in the team's language: 1,234 and 2.5 (English), 1.234 and 2,5 (Dutch)."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}".removesuffix(".0")
    return text.translate({ord(","): "\0", ord("."): say("time.decimal_point")}).replace("\0", say("time.grouping"))


def stamp(at: datetime, zone: tzinfo) -> str:
    """A full date and time for a record that is read later: "2026-12-08 06:17 CET"."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def day_start(now: datetime, zone: tzinfo, *, days_ago: int = 0) -> datetime:
    """The moment (UTC) the team's day began, today or `days_ago` days before, by its wall clock."""
    return wall_clock(now.astimezone(zone).date() - timedelta(days=days_ago), time(0), zone)


def keeps_utc(zone: tzinfo) -> bool:
    """The team's time zone is plain UTC (the default when webcare.toml names none)."""
    return zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")

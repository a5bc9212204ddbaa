"""Dates and times as the team reads them: in its time zone, with the day whenever it is not today."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from bot.core.working_time import wall_clock

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment(at: datetime, *, now: datetime, zone: tzinfo, relative: bool = True) -> str:
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
    if relative and days in (-1, 1):
        return f"{clock} {'tomorrow' if days == 1 else 'yesterday'}"
    year = f" {local.year}" if local.year != today.year else ""
    return f"{clock} on {_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year}"


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

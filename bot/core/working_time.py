"""Working time: the team's opening hours in its time zone, and how SLA clocks count inside them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
_SPAN = re.compile(r"(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)")
_MIDNIGHT = time(0)


class HoursError(ValueError):
    """An entry of `hours` is wrong: `key` names it (a day or a range of days)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key, self.problem = key, problem


@dataclass(frozen=True, slots=True)
class Span:
    """One day's opening hours on the wall clock; `end` None means until midnight (written 24:00)."""

    start: time
    end: time | None


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When the team works, in its time zone; no days at all means around the clock (24/7)."""

    zone: tzinfo = UTC
    days: Mapping[int, Span] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def always(self) -> bool:
        """The clocks never stop: no opening hours were given."""
        return not self.days

    # Every moment is turned into UTC first: Python compares and subtracts two datetimes of the same zone by
    # their wall clocks, which is an hour off across a DST change.

    def is_working(self, at: datetime) -> bool:
        """Whether `at` falls inside working hours."""
        at = _utc(at)
        if self.always:
            return True
        period = self._period_of(self._date(at))
        return period is not None and period[0] <= at < period[1]

    def next_opening(self, at: datetime) -> datetime:
        """The first working moment at or after `at`: `at` itself inside hours, else the next opening (UTC)."""
        at = _utc(at)
        if self.always:
            return at
        opens, _ = next(self.periods(at))
        return max(opens, at)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end` (0 when `end` is not after `start`)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds()
        total = 0.0
        for opens, closes in self.periods(start):
            if opens >= end:
                break
            total += (min(closes, end) - max(opens, start)).total_seconds()
        return total

    def deadline(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of working time after `start` have passed (UTC); a clock started outside hours
        starts at the next opening."""
        start, left = _utc(start), timedelta(minutes=minutes)
        if self.always:
            return start + left
        for opens, closes in self.periods(start):
            begin = max(opens, start)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
        raise AssertionError("periods() never ends")  # pragma: no cover

    def periods(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working periods (opening, closing, in UTC) that close after `since`, in order, without end."""
        if self.always:
            raise ValueError("around the clock there are no periods")
        since = _utc(since)
        day = self._date(since)
        while True:
            period = self._period_of(day)
            if period is not None and period[1] > since:
                yield period
            day += timedelta(days=1)

    def _date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def _period_of(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working period (opening, closing, in UTC), if it has one."""
        span = self.days.get(day.weekday())
        if span is None:
            return None
        opens = wall_clock(day, span.start, self.zone)
        closes = wall_clock(day + timedelta(days=1), _MIDNIGHT, self.zone) if span.end is None else \
            wall_clock(day, span.end, self.zone)
        return (opens, closes) if opens < closes else None  # a span inside a skipped hour is no time at all


def wall_clock(day: date, at: time, zone: tzinfo) -> datetime:
    """The moment (UTC) the wall clock in `zone` shows `at` on `day`: the first time when it shows it twice
    (the night the clocks go back), the moment it jumps past it when it skips it (the night they go forward)."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # Skipped: before the jump the wall clock reads earlier than `at`, after it later; find the jump to the second.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) < naive:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no place on the team's clock")
    return at.astimezone(UTC)


def parse_hours(table: Mapping[str, object], zone: tzinfo) -> WorkingHours:
    """Read `hours` such as `{ mon-fri = "08:00-22:00", sat = "10:00-18:00" }`; an empty table is refused."""
    if not table:
        raise HoursError("", "names no day (leave hours out for around the clock)")
    days: dict[int, Span] = {}
    named_by: dict[int, str] = {}
    for key, value in table.items():
        span = _span(key, value)
        for day in _days(key):
            if day in days:
                raise HoursError(key, f"{DAYS[day]} is already given by {named_by[day]!r}")
            days[day], named_by[day] = span, key
    return WorkingHours(zone=zone, days=MappingProxyType(days))


def _days(key: str) -> range:
    first, dash, last = key.strip().lower().partition("-")
    if first not in DAYS or (dash and last not in DAYS):
        raise HoursError(key, f"is not a day or a range of days ({', '.join(DAYS)}; a range like mon-fri)")
    start = DAYS.index(first)
    stop = DAYS.index(last) if dash else start
    if stop <= start and dash:
        raise HoursError(key, "a range runs forward within the week, from mon to sun (like mon-fri or sat-sun)")
    return range(start, stop + 1)


def _span(key: str, value: object) -> Span:
    text = value.strip() if isinstance(value, str) else ""
    match = _SPAN.fullmatch(text)
    if match is None:
        raise HoursError(key, 'must be "HH:MM-HH:MM", like "08:00-22:00"')
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise HoursError(key, f"{text[:16]!r} is not a time of day (00:00 to 24:00)")
    if start_h * 60 + start_m >= end_h * 60 + end_m:
        raise HoursError(key, f"{text[:16]!r} must start before it ends")
    return Span(time(start_h, start_m), None if end_h == 24 else time(end_h, end_m))


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone of this name (`Europe/Amsterdam`); ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # not found is a KeyError; odd paths a ValueError or an OSError
        raise ValueError(f"unknown time zone {name[:64]!r} (an IANA name like Europe/Amsterdam)") from None

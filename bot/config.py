"""webcare.toml: the team (language, time zone, hours), people and their chat ids and roles, departments and their
heads, SLA targets, priority and storms."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.core import catalogue
from bot.core.catalogue import LANGS, Words
from bot.core.incoming import MAX_INT32, NETWORKS
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.core.storms.text import fold, stems, words
from bot.core.views import DepartmentView, PersonRef
from bot.core.working_time import HoursError, WorkingHours, parse_hours, zone_named


class ConfigError(Exception):
    """webcare.toml is invalid: the message names the file, the key and the problem."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path, self.key, self.problem = str(path), key, problem


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the webcare team or a department head."""

    key: str
    name: str
    slack: str | None = None
    teams: str | None = None
    aad_object_id: str | None = None
    roles: frozenset[str] = frozenset()
    lang: str | None = None  # what the bot says to them privately; None: the team's language

    @property
    def ref(self) -> PersonRef:
        """This person as views name them."""
        return PersonRef(key=self.key, name=self.name, chat_ids=self.chat_ids)

    @property
    def chat_ids(self) -> tuple[tuple[str, str], ...]:
        """(platform, user id) for each chat platform webcare.toml gives an id for."""
        return tuple((platform, user_id) for platform, user_id in (("slack", self.slack), ("teams", self.teams))
                     if user_id)


@dataclass(frozen=True, slots=True)
class Department:
    """A department whose heads are pulled in on escalation and approve its replies."""

    key: str
    name: str
    heads: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sla:
    """Response-time promises the reports measure against."""

    first_response_minutes: int = 60
    claim_reminder_minutes: int = 15
    warn_at: float = 0.75  # share of the first response time at which the claimant is reminded


@dataclass(frozen=True, slots=True)
class Team:
    """The team's language (cards and channel messages), time zone and working hours."""

    lang: str = "en"
    hours: WorkingHours = field(default_factory=WorkingHours)  # no days: around the clock

    @property
    def zone(self) -> tzinfo:
        """The team's time zone: what "today" and due times mean, and where the hours are."""
        return self.hours.zone

    @property
    def words(self) -> Words:
        """The catalogue in the team's language: for cards and everything posted in a channel."""
        return catalogue.words(self.lang)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long personal data is kept (AVG/GDPR); None keeps it until erased by hand."""

    mentions_days: float | None = None  # then a mention's texts, author and profile data are removed
    raw_days: float | None = None  # then the source's raw payload is removed

    @property
    def enabled(self) -> bool:
        """Some data expires."""
        return self.mentions_days is not None or self.raw_days is not None


@dataclass(frozen=True)
class Config:
    """The whole of webcare.toml, validated, with look-ups by chat id."""

    team: Team = field(default_factory=Team)
    people: Mapping[str, Person] = field(default_factory=dict)
    departments: Mapping[str, Department] = field(default_factory=dict)
    sla: Sla = field(default_factory=Sla)
    retention: Retention = field(default_factory=Retention)
    priority: PriorityRules = field(default_factory=PriorityRules)
    storm: StormRules = field(default_factory=StormRules)
    source: str = "(built-in defaults)"

    def __post_init__(self) -> None:
        # Each platform's user ids of the people (on Teams, their Entra object id finds them too).
        by_platform: dict[str, dict[str, Person]] = {}
        for person in self.people.values():
            for platform, user_id in person.chat_ids:
                by_platform.setdefault(platform, {})[user_id] = person
            if person.aad_object_id:
                by_platform.setdefault("teams", {})[person.aad_object_id] = person
        object.__setattr__(self, "_by_platform", MappingProxyType(by_platform))

    def person_on(self, platform: str, user_id: str, *, also: str | None = None) -> Person | None:
        """The person a chat platform knows by this user id (or by `also`, e.g. an Entra object id), if configured."""
        known = self._by_platform.get(platform, {})  # type: ignore[attr-defined]
        return known.get(user_id) or (known.get(also) if also else None)

    def words_for(self, person: Person | None) -> Words:
        """The catalogue in what a person reads privately (their `lang`, else the team's): for ephemerals and
        dialogs; someone not in webcare.toml is answered in the team's language."""
        return catalogue.words(person.lang) if person and person.lang else self.team.words

    def members(self, role: str) -> list[Person]:
        """Everyone holding `role`."""
        return [p for p in self.people.values() if role in p.roles]

    def department_view(self, key: str) -> DepartmentView:
        """A department with its heads resolved to people."""
        dept = self.departments[key]
        return DepartmentView(key=dept.key, name=dept.name, heads=tuple(self.people[h].ref for h in dept.heads))

    def heads_of(self, department_keys: list[str] | tuple[str, ...]) -> set[str]:
        """Person keys of every head of these departments."""
        return {h for key in department_keys if key in self.departments for h in self.departments[key].heads}


_TEAM_KEYS = {"lang", "timezone", "hours"}
_PERSON_KEYS = {"name", "slack", "teams", "aad_object_id", "roles", "lang"}
_DEPARTMENT_KEYS = {"name", "heads"}
_SLA_MINUTES = {"first_response_minutes", "claim_reminder_minutes"}
_SLA_KEYS = {*_SLA_MINUTES, "warn_at"}
_RETENTION_KEYS = {"mentions_days", "raw_days"}
_PRIORITY_KEYS = {"vip", "reach", "keywords", "p1", "p2"}
_STORM_COUNTS = {"group_min": 2, "spike_min_mentions": 1}  # whole numbers, with their least value
# Durations and their upper bound: a window longer than the week the spike baseline repeats on means nothing.
_STORM_DURATIONS = {"group_window_minutes": ("minutes", 7 * 24 * 60), "spike_window_minutes": ("minutes", 7 * 24 * 60),
                    "digest_after_seconds": ("seconds", 24 * 60 * 60)}
_STORM_KEYS = {*_STORM_COUNTS, *_STORM_DURATIONS, "spike_ratio"}
_SECTIONS = ("team", "people", "departments", "sla", "retention", "priority", "storm")
# What the chat dialogs can show: Slack's select takes 100 options (Escalate lists every department) with
# values up to 150 characters; Slack option text is cut at 75 and a Teams choice title at 100, so a longer
# department name would be cut where people pick it, and person names fill 200-character columns.
MAX_DEPARTMENTS = 100
MAX_KEY = 64
MAX_DEPARTMENT_NAME = 75
MAX_PERSON_NAME = 100
MAX_CHAT_ID = 200
MAX_VIPS = 200
MAX_REACH = 5
MAX_KEYWORDS = 500
MAX_KEYWORD = 64
MAX_HANDLE = 500  # the ingest schema's limit on an author's handle
MAX_COUNT = 1_000_000
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def load_config(path: Path | None) -> Config:
    """Read and validate webcare.toml; no path means an empty team with default SLAs."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", str(exc)) from None
    return parse_config(data, path)


def parse_config(data: Mapping[str, Any], path: Path | str) -> Config:
    """Validate the parsed TOML document."""
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], f"unknown key (expected {', '.join(_SECTIONS)})")
    people = {_key(path, "people", key): _person(path, key, value)
              for key, value in _table(path, "people", data).items()}
    _check_unique_ids(path, people)
    department_data = _table(path, "departments", data)
    if len(department_data) > MAX_DEPARTMENTS:
        raise ConfigError(path, "departments", f"{len(department_data)} departments, at most {MAX_DEPARTMENTS} "
                                               "(the Escalate dialog lists them all)")
    departments = {_key(path, "departments", key): _department(path, key, value, people)
                   for key, value in department_data.items()}
    return Config(team=_team(path, _table(path, "team", data)), people=MappingProxyType(people),
                  departments=MappingProxyType(departments), sla=_sla(path, _table(path, "sla", data)),
                  retention=_retention(path, _table(path, "retention", data)),
                  priority=_priority(path, _table(path, "priority", data)),
                  storm=_storm(path, _table(path, "storm", data)), source=str(path))


def _key(path: Path | str, where: str, key: str) -> str:
    if len(key) > MAX_KEY:
        raise ConfigError(path, f"{where}.{key[:MAX_KEY]}…", f"key of {len(key)} characters, at most {MAX_KEY}")
    return key


def _team(path: Path | str, table: Mapping[str, Any]) -> Team:
    _check_keys(path, "team", table, _TEAM_KEYS)
    lang = _lang(path, "team.lang", table.get("lang", "en"))
    zone = _zone(path, table["timezone"]) if "timezone" in table else UTC
    hours = table.get("hours")
    if hours is None:
        return Team(lang=lang, hours=WorkingHours(zone=zone))
    if not isinstance(hours, dict):
        raise ConfigError(path, "team.hours", 'must be a table like { mon-fri = "08:00-22:00" }')
    try:
        return Team(lang=lang, hours=parse_hours(hours, zone))
    except HoursError as exc:
        where = f"team.hours.{_toml_key(exc.key[:MAX_KEY])}" if exc.key else "team.hours"
        raise ConfigError(path, where, exc.problem) from None


def _zone(path: Path | str, name: Any) -> tzinfo:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(path, "team.timezone", "must be an IANA time zone name like Europe/Amsterdam")
    try:
        return zone_named(name.strip())
    except ValueError as exc:
        raise ConfigError(path, "team.timezone", str(exc)) from None


def _lang(path: Path | str, where: str, value: Any) -> str:
    if value not in LANGS:
        raise ConfigError(path, where, f"must be one of {', '.join(LANGS)}")
    return value


def _sla(path: Path | str, table: Mapping[str, Any]) -> Sla:
    _check_keys(path, "sla", table, _SLA_KEYS)
    for key in _SLA_MINUTES & set(table):
        value = table[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(path, f"sla.{key}", "must be a positive whole number of minutes")
    warn_at = table.get("warn_at", Sla().warn_at)
    if not _number(warn_at) or not 0 < warn_at < 1:
        raise ConfigError(path, "sla.warn_at", "must be a share between 0 and 1, like 0.75")
    return Sla(**{key: table[key] for key in _SLA_MINUTES & set(table)}, warn_at=float(warn_at))


def _retention(path: Path | str, table: Mapping[str, Any]) -> Retention:
    _check_keys(path, "retention", table, _RETENTION_KEYS)
    for key, value in table.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 100_000:
            raise ConfigError(path, f"retention.{key}", "must be a positive number of days (below 100000)")
    return Retention(**table)


def _table(path: Path | str, key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table")
    return value


def _check_keys(path: Path | str, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(path, f"{where}.{unknown[0]}", f"unknown key (expected one of {', '.join(sorted(allowed))})")


def _text(path: Path | str, where: str, value: Any, *, required: bool = False,
          limit: int = MAX_CHAT_ID) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, where, "must be a non-empty string")
    if len(value.strip()) > limit:
        raise ConfigError(path, where, f"{len(value.strip())} characters, at most {limit}")
    return value.strip()


def _person(path: Path | str, key: str, table: Any) -> Person:
    where = f"people.{key}"
    if not isinstance(table, dict):
        raise ConfigError(path, where, "must be a table")
    _check_keys(path, where, table, _PERSON_KEYS)
    roles = table.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
        raise ConfigError(path, f"{where}.roles", "must be a list of role names")
    if long := next((r for r in roles if len(r.strip()) > MAX_KEY), None):
        raise ConfigError(path, f"{where}.roles", f"role {long[:MAX_KEY]!r}… is longer than {MAX_KEY} characters")
    name = _text(path, f"{where}.name", table.get("name"), required=True, limit=MAX_PERSON_NAME)
    return Person(key=key, name=name or key,
                  slack=_text(path, f"{where}.slack", table.get("slack")),
                  teams=_text(path, f"{where}.teams", table.get("teams")),
                  aad_object_id=_text(path, f"{where}.aad_object_id", table.get("aad_object_id")),
                  roles=frozenset(r.strip() for r in roles),
                  lang=_lang(path, f"{where}.lang", table["lang"]) if "lang" in table else None)


def _check_unique_ids(path: Path | str, people: Mapping[str, Person]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for person in people.values():
        for kind, value in (("slack", person.slack), ("teams", person.teams), ("aad_object_id", person.aad_object_id)):
            if value is None:
                continue
            other = seen.setdefault((kind, value), person.key)
            if other != person.key:
                raise ConfigError(path, f"people.{person.key}.{kind}",
                                  f"duplicate id {value!r}, also used by people.{other}")


def _department(path: Path | str, key: str, table: Any, people: Mapping[str, Person]) -> Department:
    where = f"departments.{key}"
    if not isinstance(table, dict):
        raise ConfigError(path, where, "must be a table")
    _check_keys(path, where, table, _DEPARTMENT_KEYS)
    heads = table.get("heads", [])
    if not isinstance(heads, list) or not heads or not all(isinstance(h, str) for h in heads):
        raise ConfigError(path, f"{where}.heads", "must be a non-empty list of people keys")
    for head in heads:
        if head not in people:
            raise ConfigError(path, f"{where}.heads", f"unknown person {head!r} (not in [people])")
    if len(set(heads)) != len(heads):
        raise ConfigError(path, f"{where}.heads", "lists the same person twice")
    name = _text(path, f"{where}.name", table.get("name"), required=True, limit=MAX_DEPARTMENT_NAME)
    return Department(key=key, name=name or key, heads=tuple(heads))


def _priority(path: Path | str, table: Mapping[str, Any]) -> PriorityRules:
    _check_keys(path, "priority", table, _PRIORITY_KEYS)
    defaults = PriorityRules()
    p1 = _score(path, "priority.p1", table.get("p1", defaults.p1))
    p2 = _score(path, "priority.p2", table.get("p2", defaults.p2))
    if p2 >= p1:
        raise ConfigError(path, "priority.p2", f"must be below p1 ({p1})")
    return PriorityRules(vip=_vips(path, table.get("vip", [])), reach=_reach(path, table.get("reach", defaults.reach)),
                         keywords=_keywords(path, table.get("keywords", {})), p1=p1, p2=p2)


def _score(path: Path | str, where: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ConfigError(path, where, "must be a whole number from 0 to 100")
    return value


def _vips(path: Path | str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise ConfigError(path, "priority.vip", 'must be a list of "network:handle" strings')
    if len(value) > MAX_VIPS:
        raise ConfigError(path, "priority.vip", f"{len(value)} entries, at most {MAX_VIPS}")
    for entry in value:
        network, colon, handle = fold(entry).partition(":")
        if not colon or not handle.lstrip("@"):
            raise ConfigError(path, "priority.vip", f'{entry[:MAX_KEY]!r} must be "network:handle"')
        if network not in NETWORKS:
            raise ConfigError(path, "priority.vip", f"{entry[:MAX_KEY]!r}: unknown network {network[:MAX_KEY]!r} "
                                                    f"(known: {', '.join(sorted(NETWORKS))})")
        if len(handle) > MAX_HANDLE or " " in handle:
            raise ConfigError(path, "priority.vip", f"{entry[:MAX_KEY]!r}: a handle is one word of at most "
                                                    f"{MAX_HANDLE} characters")
    return frozenset(value)


def _reach(path: Path | str, value: Any) -> tuple[int, ...]:
    if (not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_REACH
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_INT32 for n in value)
            or any(a >= b for a, b in zip(value, value[1:], strict=False))):
        raise ConfigError(path, "priority.reach", f"must be 1 to {MAX_REACH} follower counts, positive whole numbers "
                                                  "in strictly ascending order")
    return tuple(value)


def _keywords(path: Path | str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ConfigError(path, "priority.keywords", "must be a table of keyword = weight")
    if len(value) > MAX_KEYWORDS:
        raise ConfigError(path, "priority.keywords", f"{len(value)} keywords, at most {MAX_KEYWORDS}")
    seen: dict[tuple[str, ...], str] = {}
    for keyword, weight in value.items():
        if len(keyword.strip()) > MAX_KEYWORD:
            raise ConfigError(path, f"priority.keywords.{_toml_key(keyword[:MAX_KEYWORD])}…",
                              f"keyword of {len(keyword.strip())} characters, at most {MAX_KEYWORD}")
        where = f"priority.keywords.{_toml_key(keyword)}"
        if not words(keyword):
            raise ConfigError(path, where, "a keyword needs a letter or digit")
        _score(path, where, weight)
        other = seen.setdefault(tuple(stems(keyword)), keyword)
        if other != keyword:
            raise ConfigError(path, where, f"the same keyword as {other!r} once case, accents and plurals are folded")
    return {keyword.strip(): weight for keyword, weight in value.items()}


def _toml_key(key: str) -> str:
    """The key as TOML writes it, invisible characters escaped so that the message shows them."""
    if _BARE_KEY.fullmatch(key):
        return key
    return '"' + "".join(f"\\{c}" if c in '"\\' else c if c.isprintable() else _toml_escape(c) for c in key) + '"'


def _toml_escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def _storm(path: Path | str, table: Mapping[str, Any]) -> StormRules:
    _check_keys(path, "storm", table, _STORM_KEYS)
    for key, value in table.items():
        if key in _STORM_COUNTS:
            least = _STORM_COUNTS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= MAX_COUNT:
                raise ConfigError(path, f"storm.{key}", f"must be a whole number from {least} to {MAX_COUNT}")
        elif key in _STORM_DURATIONS:
            unit, most = _STORM_DURATIONS[key]
            if not _number(value) or not 0 < value <= most:
                raise ConfigError(path, f"storm.{key}", f"must be a positive number of {unit}, at most {most}")
        elif not _number(value) or not 1 < value <= MAX_COUNT:
            raise ConfigError(path, f"storm.{key}", f"must be a number above 1, at most {MAX_COUNT}")
    return StormRules(**{key: value if key in _STORM_COUNTS else float(value) for key, value in table.items()})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

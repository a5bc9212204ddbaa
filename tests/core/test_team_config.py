"""Core: `[team]` (language, time zone, working hours), `[sla] warn_at` and `[people.x] lang` are validated at start."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).parents[2]
ANNA = '[people.anna]\nname = "Anna"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    return path


def test_the_shipped_example_is_a_dutch_team_with_office_hours():
    config = load_config(ROOT / "webcare.example.toml")
    assert config.team.lang == "nl" and config.team.zone == ZoneInfo("Europe/Amsterdam")
    hours = config.team.hours
    assert hours.is_working(datetime(2026, 12, 8, 20, 30, tzinfo=UTC))  # Tuesday 21:30 in Amsterdam
    assert not hours.is_working(datetime(2026, 12, 12, 17, 30, tzinfo=UTC))  # Saturday 18:30
    assert config.sla.warn_at == 0.75 and config.people["anna"].lang == "nl"


def test_without_a_team_section_the_bot_speaks_english_in_utc_around_the_clock(tmp_path):
    config = load_config(write(tmp_path, ANNA))
    assert (config.team.lang, config.team.zone, config.team.hours.always) == ("en", UTC, True)
    assert config.sla.warn_at == 0.75 and config.people["anna"].lang is None


def test_a_team_section_is_read(tmp_path):
    config = load_config(write(tmp_path, '[team]\nlang = "en"\ntimezone = "America/New_York"\n'
                                         'hours = { mon-fri = "09:00-17:00", sat = "10:00-14:00" }\n'
                                         '[sla]\nwarn_at = 0.5\n' + ANNA + 'lang = "en"\n'))
    assert config.team.zone == ZoneInfo("America/New_York") and sorted(config.team.hours.days) == [0, 1, 2, 3, 4, 5]
    assert config.sla.warn_at == 0.5 and config.people["anna"].lang == "en"
    assert config.sla.first_response_minutes == 60  # the other SLA keys keep their defaults


@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[team]\nlang = "de"\n', "team.lang", "must be one of en, nl"),
    ('[team]\nlanguage = "nl"\n', "team.language", "unknown key"),
    ('[team]\ntimezone = "Europe/Amsterdan"\n', "team.timezone", "unknown time zone 'Europe/Amsterdan'"),
    ('[team]\ntimezone = "../../etc/passwd"\n', "team.timezone", "unknown time zone"),
    ('[team]\ntimezone = 1\n', "team.timezone", "IANA time zone name"),
    ('[team]\nhours = "08:00-22:00"\n', "team.hours", "must be a table"),
    ('[team]\nhours = {}\n', "team.hours", "names no day"),
    ('[team]\nhours = { weekdays = "08:00-22:00" }\n', "team.hours.weekdays", "not a day or a range of days"),
    ('[team]\nhours = { mon-fri = "08:00-22:00", fri = "09:00-12:00" }\n', "team.hours.fri",
     "fri is already given by 'mon-fri'"),
    ('[team]\nhours = { mon = "22:00-06:00" }\n', "team.hours.mon", "must start before it ends"),
    ('[team]\nhours = { mon = "8 to 5" }\n', "team.hours.mon", 'must be "HH:MM-HH:MM"'),
    ('[team]\nhours = { "mon fri" = "08:00-22:00" }\n', 'team.hours."mon fri"', "not a day"),
    ('[sla]\nwarn_at = 1\n', "sla.warn_at", "share between 0 and 1"),
    ('[sla]\nwarn_at = 0\n', "sla.warn_at", "share between 0 and 1"),
    ('[sla]\nwarn_at = "75%"\n', "sla.warn_at", "share between 0 and 1"),
    ('[sla]\nwarn_at = nan\n', "sla.warn_at", "share between 0 and 1"),
    ('[sla]\nclaim_reminder_minutes = 0\n', "sla.claim_reminder_minutes", "positive whole number"),
    (ANNA + 'lang = "fr"\n', "people.anna.lang", "must be one of en, nl"),
])
def test_a_bad_team_or_sla_value_is_a_startup_error_naming_the_key(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key and problem in caught.value.problem, str(caught.value)
    assert str(caught.value).startswith(f"{path}: {key}: ")

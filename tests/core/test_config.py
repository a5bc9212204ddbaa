"""Core: webcare.toml is validated with messages naming the file, the key and the problem; secrets never print."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import ConfigError, load_config
from bot.core.catalogue import words
from bot.core.storms.priority import Level, PriorityRules, score
from bot.core.storms.rules import StormRules
from bot.settings import Settings
from bot.slack.modals import escalate_modal

EN = words("en")

ROOT = Path(__file__).parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    return path


def test_the_shipped_example_loads_and_resolves_people_by_chat_id():
    config = load_config(ROOT / "webcare.example.toml")
    assert config.person_on("slack", "U01ANNA").name == "Anna de Vries"
    assert config.person_on("teams", "29:1anna").key == "anna"
    assert [p.key for p in config.members("webcare-lead")] == ["anna"]
    assert config.department_view("legal").heads[0].chat_id("slack") == "U04DIRK"
    assert config.sla.first_response_minutes == 60


INVALID = [
    ('[people.anna]\nname = "Anna"\nslak = "U1"\n', "people.anna.slak", "unknown key"),
    ('[people.anna]\nname = "Anna"\n[departments.sales]\nname = "Sales"\nheads = ["bob"]\n',
     "departments.sales.heads", "unknown person 'bob'"),
    ('[people.a]\nname = "A"\nslack = "U1"\n[people.b]\nname = "B"\nslack = "U1"\n',
     "people.b.slack", "duplicate id 'U1', also used by people.a"),
    ('[sla]\nfirst_response_minutes = -5\n', "sla.first_response_minutes", "positive whole number"),
    ('[teams]\nx = 1\n', "teams", "unknown key"),
    ('[people.anna]\nroles = ["webcare"]\n', "people.anna.name", "non-empty string"),
    ('[people.anna\n', "(syntax)", ""),
]


def test_missing_config_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_settings_hide_secrets_and_read_the_contract_names(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1111-2222-secretvalue")
    monkeypatch.setenv("WEBCARE_INGEST_SECRET", "whsec_b2xk whsec_bmV3")
    monkeypatch.setenv("WEBCARE_DATABASE_URL", "postgresql://webcare@db/webcare")
    settings = Settings(_env_file=None)
    assert "secretvalue" not in repr(settings) and "secretvalue" not in str(settings)
    assert settings.ingest_secrets == ["whsec_b2xk", "whsec_bmV3"]
    assert settings.database_url == "postgresql://webcare@db/webcare"
    assert (settings.host, settings.port) == ("127.0.0.1", 3000)
    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 1


@pytest.mark.parametrize(("env", "missing"), [
    ({"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"}, "MICROSOFT_APP_PASSWORD is missing"),
    ({"MICROSOFT_APP_PASSWORD": "pw-123456"}, "MICROSOFT_APP_ID is missing"),
    ({"TEAMS_TRIAGE_CHANNEL": "19:abc@thread.tacv2"}, "TEAMS_TRIAGE_CHANNEL set but MICROSOFT_APP_ID is missing"),
    ({"TEAMS_SERVICE_URL": "https://smba.example/", "TEAMS_TENANT_ID": "t"},
     "TEAMS_SERVICE_URL, TEAMS_TENANT_ID set but MICROSOFT_APP_ID is missing"),
])
def test_half_configured_teams_is_named(monkeypatch, env, missing):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    problem = Settings(_env_file=None).teams_problem()
    assert problem is not None and missing in problem


def test_teams_without_auth_only_in_dev_mode(monkeypatch):
    monkeypatch.setenv("TEAMS_TRIAGE_CHANNEL", "19:abc@thread.tacv2")
    monkeypatch.setenv("WEBCARE_DEV", "1")
    settings = Settings(_env_file=None)
    assert settings.teams_problem() is None and settings.teams_enabled
    monkeypatch.setenv("WEBCARE_DEV", "0")
    assert not Settings(_env_file=None).teams_enabled


def test_blank_secrets_count_as_unset(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", " ")
    settings = Settings(_env_file=None)
    assert not settings.slack_enabled and settings.teams_problem() is None


def departments_toml(count: int, *, key: str = "dept", name: str = "Department") -> str:
    """A team of one head and `count` departments."""
    head = '[people.head]\nname = "Head"\nslack = "U0HEAD"\n'
    return head + "".join(f'[departments.{key}{n}]\nname = "{name} {n}"\nheads = ["head"]\n' for n in range(count))


# What the Escalate dialogs could not show, or [retention] cannot mean: refused at start-up like any other mistake.
LIMITS = [
    (departments_toml(101), "departments", "101 departments, at most 100"),
    (departments_toml(1, key="d" * 65), "departments." + "d" * 64 + "…", "key of 66 characters, at most 64"),
    ('[people.' + "p" * 65 + ']\nname = "P"\n', "people." + "p" * 64 + "…", "key of 65 characters, at most 64"),
    ('[people.p]\nname = "P"\nroles = ["' + "r" * 65 + '"]\n', "people.p.roles", "longer than 64 characters"),
    (departments_toml(1, name="N" * 74), "departments.dept0.name", "76 characters, at most 75"),
    ('[people.p]\nname = "' + "N" * 101 + '"\n', "people.p.name", "101 characters, at most 100"),
    ('[people.p]\nname = "P"\nteams = "' + "2" * 201 + '"\n', "people.p.teams", "201 characters, at most 200"),
    ('[retention]\nmentions_days = 0\n', "retention.mentions_days", "positive number of days"),
    ('[retention]\nraw_days = "30"\n', "retention.raw_days", "positive number of days"),
    ('[retention]\nraw_day = 30\n', "retention.raw_day", "unknown key"),
]


# [priority] and [storm]: what could not be scored or timed is refused at start-up, naming the key.
PRIORITY_AND_STORM = [
    ('[priority]\nvip = ["twitter:nos"]\n', "priority.vip", "unknown network 'twitter'"),
    ('[priority]\nvip = ["nos"]\n', "priority.vip", 'must be "network:handle"'),
    ('[priority]\nvip = ["x:@"]\n', "priority.vip", 'must be "network:handle"'),
    ('[priority]\nvip = "x:nos"\n', "priority.vip", "must be a list"),
    ('[priority]\nvip = ["x:de nos"]\n', "priority.vip", "a handle is one word"),
    ("[priority]\nvip = [" + ", ".join(f'"x:v{n}"' for n in range(201)) + "]\n", "priority.vip",
     "201 entries, at most 200"),
    ("[priority]\nreach = [1000, 1000]\n", "priority.reach", "strictly ascending"),
    ("[priority]\nreach = [10000, 1000]\n", "priority.reach", "strictly ascending"),
    ("[priority]\nreach = [0, 1000]\n", "priority.reach", "positive whole numbers"),
    ("[priority]\nreach = []\n", "priority.reach", "1 to 5"),
    ("[priority]\nreach = [1, 2, 3, 4, 5, 6]\n", "priority.reach", "1 to 5"),
    ("[priority]\nreach = [1.5]\n", "priority.reach", "whole numbers"),
    ('[priority]\nkeywords = { datalek = 101 }\n', "priority.keywords.datalek", "whole number from 0 to 100"),
    ('[priority]\nkeywords = { datalek = true }\n', "priority.keywords.datalek", "whole number from 0 to 100"),
    ('[priority]\nkeywords = { "data breach" = "40" }\n', 'priority.keywords."data breach"', "from 0 to 100"),
    ('[priority]\nkeywords = { "!!" = 10 }\n', 'priority.keywords."!!"', "needs a letter or digit"),
    ('[priority]\nkeywords = { "\u200b" = 10 }\n', 'priority.keywords."\\u200b"', "needs a letter or digit"),
    ('[priority]\nkeywords = { "' + "k" * 65 + '" = 10 }\n', "priority.keywords." + "k" * 64 + "…",
     "keyword of 65 characters, at most 64"),
    ('[priority]\nkeywords = { datalek = 40, Datalekken = 30 }\n', "priority.keywords.Datalekken",
     "the same keyword as 'datalek'"),
    ("[priority]\nkeywords = { " + ", ".join(f"k{n} = 1" for n in range(501)) + " }\n", "priority.keywords",
     "501 keywords, at most 500"),
    ("[priority]\nkeywords = [\"datalek\"]\n", "priority.keywords", "must be a table"),
    ("[priority]\np1 = 40\np2 = 40\n", "priority.p2", "must be below p1 (40)"),
    ("[priority]\np1 = 101\n", "priority.p1", "whole number from 0 to 100"),
    ("[priority]\np2 = -1\n", "priority.p2", "whole number from 0 to 100"),
    ("[priority]\nvips = []\n", "priority.vips", "unknown key"),
    ("[storm]\ngroup_min = 1\n", "storm.group_min", "whole number from 2"),
    ("[storm]\ngroup_min = 2.5\n", "storm.group_min", "whole number from 2"),
    ("[storm]\ngroup_window_minutes = 0\n", "storm.group_window_minutes", "positive number of minutes"),
    ("[storm]\ngroup_window_minutes = true\n", "storm.group_window_minutes", "positive number of minutes"),
    ("[storm]\nspike_window_minutes = inf\n", "storm.spike_window_minutes", "positive number of minutes"),
    ("[storm]\ndigest_after_seconds = nan\n", "storm.digest_after_seconds", "positive number of seconds"),
    ("[storm]\ndigest_after_seconds = -1\n", "storm.digest_after_seconds", "positive number of seconds"),
    ("[storm]\nspike_min_mentions = 0\n", "storm.spike_min_mentions", "whole number from 1"),
    ("[storm]\nspike_ratio = 1\n", "storm.spike_ratio", "a number above 1"),
    ('[storm]\nspike_ratio = "4"\n', "storm.spike_ratio", "a number above 1"),
    ("[storm]\ngroup_size = 3\n", "storm.group_size", "unknown key"),
    ('storm = "on"\n', "storm", "must be a table"),
]


@pytest.mark.parametrize(("text", "key", "problem"), INVALID + LIMITS + PRIORITY_AND_STORM)
def test_invalid_config_names_file_key_and_problem(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}: {key}: ")
    assert problem in refused.value.problem


def test_the_largest_team_the_config_accepts_fits_the_escalate_dialogs(tmp_path):
    config = load_config(write(tmp_path, departments_toml(100, key="k" * 61, name="N" * 72)))
    departments = [config.department_view(key) for key in config.departments]
    modal = escalate_modal(1, departments, EN)
    [select] = [b["element"] for b in modal["blocks"] if b.get("element", {}).get("options")]
    assert len(select["options"]) == 100
    assert all(len(o["value"]) <= 150 and len(o["text"]["text"]) <= 75 for o in select["options"])


def test_retention_is_read_in_days_and_off_when_absent(tmp_path):
    config = load_config(write(tmp_path, '[retention]\nmentions_days = 365\nraw_days = 0.5\n'))
    assert (config.retention.mentions_days, config.retention.raw_days) == (365, 0.5)
    assert not load_config(write(tmp_path, "")).retention.enabled
    assert load_config(ROOT / "webcare.example.toml").retention.raw_days == 30


def test_the_example_scores_a_dutch_brands_mentions_and_keeps_the_designs_storm_rules():
    config = load_config(ROOT / "webcare.example.toml")
    leak = score(config.priority, network="x", handle="@klant", followers=40, verified=False,
                 text="Mijn gegevens zijn gelekt, weer een datalek. Ik stap naar de Geschillencommissie.")
    assert leak.level is Level.P1 and "keyword:datalek" in leak.reasons
    assert score(config.priority, network="mastodon", handle="@nos@mastodon.nl", followers=None, verified=False,
                 text="Vraag").reasons == ("vip",)
    assert config.storm == StormRules(group_min=3, group_window_minutes=30, digest_after_seconds=60,
                                      spike_window_minutes=10, spike_min_mentions=20, spike_ratio=4.0)


def test_priority_and_storm_take_the_defaults_when_absent_and_fractions_of_durations(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert (config.priority, config.storm) == (PriorityRules(), StormRules())
    config = load_config(write(tmp_path, "[priority]\nreach = [500]\np2 = 10\n[storm]\n"
                                         "group_window_minutes = 0.5\ndigest_after_seconds = 2\nspike_ratio = 3\n"))
    assert (config.priority.reach, config.priority.p1, config.priority.p2) == ((500,), 70, 10)
    assert (config.storm.group_window_minutes, config.storm.digest_after_seconds, config.storm.spike_ratio,
            config.storm.group_min) == (0.5, 2.0, 3.0, 3)

"""Core: webcare.toml is validated with messages naming the file, the key and the problem; secrets never print."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import ConfigError, load_config
from bot.settings import Settings
from bot.slack.modals import escalate_modal

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


@pytest.mark.parametrize(("text", "key", "problem"), INVALID + LIMITS)
def test_invalid_config_names_file_key_and_problem(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}: {key}: ")
    assert problem in refused.value.problem


def test_the_largest_team_the_config_accepts_fits_the_escalate_dialogs(tmp_path):
    config = load_config(write(tmp_path, departments_toml(100, key="k" * 61, name="N" * 72)))
    departments = [config.department_view(key) for key in config.departments]
    modal = escalate_modal(1, departments)
    [select] = [b["element"] for b in modal["blocks"] if b.get("element", {}).get("options")]
    assert len(select["options"]) == 100
    assert all(len(o["value"]) <= 150 and len(o["text"]["text"]) <= 75 for o in select["options"])


def test_retention_is_read_in_days_and_off_when_absent(tmp_path):
    config = load_config(write(tmp_path, '[retention]\nmentions_days = 365\nraw_days = 0.5\n'))
    assert (config.retention.mentions_days, config.retention.raw_days) == (365, 0.5)
    assert not load_config(write(tmp_path, "")).retention.enabled
    assert load_config(ROOT / "webcare.example.toml").retention.raw_days == 30

"""`webcare doctor`: a checklist of the database, Slack, Teams, webcare.toml and playbooks; exit 1 on any failure,
each check time-boxed, never a traceback, never a secret. Slack and Teams are the local fakes, on their wire format."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.fakes.slack_api import SlackError, SlackFake
from tests.support import SECRETS, SLACK_TOKEN, TEAM_PLAYBOOKS, TEAM_TOML, TEAMS_APP_PASSWORD, TRIAGE_CHANNEL

PG_PASSWORD = "pg-password-never-printed"


class SlackWithChannels(SlackFake):
    """The Slack fake plus `conversations.info`, answered as Slack does (`is_member` for the bot)."""

    def __init__(self, channels: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.channels = channels
        self._methods["conversations.info"] = self._info

    def _info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise SlackError("channel_not_found")
        return {"channel": {"is_channel": True, "is_archived": False, **channel}}


@pytest.fixture
async def slack_with(request: pytest.FixtureRequest) -> AsyncIterator[SlackWithChannels]:
    member = getattr(request, "param", True)
    async with SlackWithChannels({TRIAGE_CHANNEL: {"id": TRIAGE_CHANNEL, "name": "webcare",
                                                   "is_member": member}}) as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env or webcare.toml of the repository
    for name in ("SLACK_APP_TOKEN", "TEAMS_TRIAGE_CHANNEL", "TEAMS_SERVICE_URL", "WEBCARE_DEV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def environment(database_url: str, slack: SlackFake, kit: Any, **overrides: str) -> dict[str, str]:
    values = {"WEBCARE_DATABASE_URL": database_url, "WEBCARE_CONFIG": str(TEAM_TOML),
              "WEBCARE_PLAYBOOKS_DIR": str(TEAM_PLAYBOOKS), "SLACK_BOT_TOKEN": SLACK_TOKEN,
              "SLACK_TRIAGE_CHANNEL": TRIAGE_CHANNEL, "SLACK_API_URL": slack.url, "MICROSOFT_APP_ID": kit.app_id,
              "MICROSOFT_APP_PASSWORD": kit.app_password, "MICROSOFT_LOGIN_URL": kit.login_url,
              "MICROSOFT_OPENID_METADATA_URL": kit.openid_metadata_url}
    return values | overrides


async def doctor(env: dict[str, str], *args: str) -> Result:
    """Run `webcare doctor` in a thread, as a terminal would, while this loop serves the fakes."""
    return await asyncio.to_thread(CliRunner().invoke, main, ["doctor", *args], env=env)


def lines(result: Result) -> dict[str, str]:
    """The checklist, by check name."""
    found = {}
    for line in result.stdout.splitlines():
        status, _, rest = line.partition("] ")
        name, _, detail = rest.partition(": ")
        found[name] = f"{status.strip('[ ')}: {detail}"
    return found


def assert_clean(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no crash, an exit status
    for secret in (*SECRETS, PG_PASSWORD):
        assert secret not in result.output


async def test_a_healthy_setup_passes_every_check(workdir, database_url, slack_with, kit):
    result = await doctor(environment(database_url, slack_with, kit))
    assert result.exit_code == 0, result.output
    checks = lines(result)
    assert set(checks) == {"webcare.toml", "database", "slack token", "slack channel", "teams credentials",
                           "playbooks"}
    assert all(line.startswith("ok: ") for line in checks.values()), checks
    assert "(the newest)" in checks["database"] and "#webcare" in checks["slack channel"]
    assert [r.secret_ok for r in kit.token_requests] == [True]  # the token came from the Microsoft login
    assert slack_with.calls_to("conversations.info") == [{"channel": TRIAGE_CHANNEL}]
    assert_clean(result)


@pytest.mark.parametrize("slack_with", [False], indirect=True)
async def test_each_failure_is_one_line_that_says_what_to_do(workdir, slack_with, kit):
    unreachable = f"postgresql://webcare:{PG_PASSWORD}@127.0.0.1:9/webcare"
    env = environment(unreachable, slack_with, kit, MICROSOFT_APP_PASSWORD="not-the-" + TEAMS_APP_PASSWORD)
    result = await doctor(env)
    assert result.exit_code == 1
    checks = lines(result)
    assert checks["database"].startswith("FAIL: database postgresql://webcare:***@127.0.0.1:9/webcare is unreachable")
    assert checks["slack token"].startswith("ok: ")
    assert checks["slack channel"] == f"FAIL: the bot is not a member of #webcare ({TRIAGE_CHANNEL}): " \
                                      "type /invite @<bot name> there"
    assert checks["teams credentials"].startswith("FAIL: the Microsoft login refused MICROSOFT_APP_ID")
    assert "AADSTS7000215" in checks["teams credentials"]
    assert "3 of 6 checks failed" in result.output
    assert_clean(result)


async def test_a_refused_token_and_an_unknown_channel_fail(workdir, sqlite_url, kit):
    async with SlackWithChannels({}) as slack:
        bad_token = await doctor(environment(sqlite_url, slack, kit, SLACK_BOT_TOKEN="xoxb-revoked-token"))
        assert lines(bad_token)["slack token"].startswith("FAIL: auth.test refused SLACK_BOT_TOKEN (invalid_auth)")
        unknown = lines(await doctor(environment(sqlite_url, slack, kit)))
        assert unknown["slack channel"].startswith(f"FAIL: {TRIAGE_CHANNEL} not found")
    assert bad_token.exit_code == 1 and "xoxb-revoked-token" not in bad_token.output


async def test_a_service_that_never_answers_fails_its_check_within_the_time_box(workdir, sqlite_url, kit):
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(60)  # read nothing, answer nothing

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    silent = f"http://{host}:{port}/api/"
    try:
        async with SlackWithChannels({}) as slack:
            env = environment(sqlite_url, slack, kit, SLACK_API_URL=silent)
            started = time.monotonic()
            result = await doctor(env, "--timeout", "1")
            took = time.monotonic() - started
    finally:
        server.close()
    assert result.exit_code == 1 and lines(result)["slack token"].startswith("FAIL: ")
    assert lines(result)["playbooks"].startswith("ok: ")  # the other checks still ran
    assert took < 20, f"doctor took {took:.1f} s with a 1 s time box"
    assert_clean(result)


def test_nothing_configured_is_skipped_not_failed(workdir, sqlite_url):
    result = CliRunner().invoke(main, ["doctor"], env={"WEBCARE_DATABASE_URL": sqlite_url, "SLACK_BOT_TOKEN": "",
                                                       "MICROSOFT_APP_ID": "", "WEBCARE_CONFIG": ""})
    checks = lines(result)
    assert checks["slack"] == "skip: SLACK_BOT_TOKEN is not set" and checks["teams"].startswith("skip: ")
    assert checks["webcare.toml"].startswith("warn: ") and result.exit_code == 0
    assert "no check of 5 failed, 2 warnings" in result.output  # not "all passed" while something is off

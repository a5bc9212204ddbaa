"""App: `webcare serve` as a fresh clone runs it — embedded defaults, clear start-up errors, clean stop."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import aiohttp

from tests.processes import free_port, until_healthy

SERVER_PREFIXES = ("WEBCARE_", "SLACK_", "MICROSOFT_", "TEAMS_", "MASTODON_", "HOST", "PORT")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_PREFIXES)}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def webcare(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=clean_env(**env), text=True,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


async def test_serve_on_embedded_defaults(tmp_path):
    port = free_port()
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=err, env=clean_env(PORT=str(port)))
    try:
        async with aiohttp.ClientSession() as session:
            await until_healthy(session, f"http://127.0.0.1:{port}")
            async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 200
            async with session.post(f"http://127.0.0.1:{port}/ingest/v1/mentions", data=b"{}") as response:
                assert response.status == 503
                assert "WEBCARE_INGEST_SECRET" in (await response.json())["message"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = stderr.read_text()
    assert "no chat platform is configured" in log
    assert (tmp_path / "webcare.db").exists()
    assert "Traceback" not in log


def test_invalid_team_file_stops_start_up_naming_file_key_and_problem(tmp_path):
    (tmp_path / "webcare.toml").write_text('[departments.sales]\nname = "Sales"\nheads = ["nobody"]\n')
    result = webcare("serve", cwd=tmp_path, PORT=str(free_port()))
    assert result.returncode != 0
    assert "webcare.toml: departments.sales.heads: unknown person 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_environment_is_named(tmp_path):
    result = webcare("serve", cwd=tmp_path, PORT="eighty")
    assert result.returncode != 0 and "port" in result.stderr.lower() and "Traceback" not in result.stderr
    result = webcare("serve", cwd=tmp_path, WEBCARE_DATABASE_URL="mysql://x/y")
    assert result.returncode != 0 and "unsupported database 'mysql'" in result.stderr


def test_help_lists_every_command(tmp_path):
    result = webcare("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "db", "ingest", "slack-manifest", "teams-manifest"):
        assert command in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = webcare("db", "upgrade", cwd=tmp_path, WEBCARE_DATABASE_URL=url)
    assert result.returncode == 0 and "up to date" in result.stdout
    with sqlite3.connect(tmp_path / "x.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mention", "draft", "audit", "outbox", "chatmessage", "ingestreceipt"} <= tables


def test_half_configured_teams_refuses_to_start_and_says_what_is_missing(tmp_path):
    result = webcare("serve", cwd=tmp_path, PORT=str(free_port()), TEAMS_TRIAGE_CHANNEL="19:abc@thread.tacv2")
    assert result.returncode != 0
    assert "TEAMS_TRIAGE_CHANNEL set but MICROSOFT_APP_ID is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_teams_manifest_writes_an_uploadable_package(tmp_path):
    app_id = "00000000-0000-0000-0000-00000000b075"
    result = webcare("teams-manifest", "--app-id", app_id, "--host", "webcare.example.com", "--out", "app.zip",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert manifest["bots"][0]["botId"] == app_id
    refused = webcare("teams-manifest", "--app-id", "not-a-guid", "--host", "x.example", cwd=tmp_path)
    assert refused.returncode == 2 and "GUID" in refused.stderr

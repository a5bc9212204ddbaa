"""Operator commands: `webcare --version`, `webcare db current`, and one clear line when the database is not there."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.storage.migrate import head_revision, upgrade

ROOT = Path(__file__).parents[2]


def test_version_is_the_installed_package_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"webcare, version {importlib.metadata.version('webcare-bot')}\n"


def test_db_current_shows_the_revision_and_the_newest(database_url, monkeypatch):
    monkeypatch.setenv("WEBCARE_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 0 and result.output == f"current: {head_revision()}  head: {head_revision()}  " \
                                                      "(up to date)\n"


def test_db_current_says_when_a_database_is_behind(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    monkeypatch.setenv("WEBCARE_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.output == f"current: 0001  head: {head_revision()}  (behind: run `webcare db upgrade`)\n"


@pytest.mark.parametrize(("url", "shown", "reason"), [
    ("postgresql://webcare:s3cret-pw@127.0.0.1:9/webcare", "postgresql://webcare:***@127.0.0.1:9/webcare",
     "ConnectionRefusedError"),
    ("sqlite:////proc/no-such-dir/webcare.db", "sqlite:////proc/no-such-dir/webcare.db", "FileNotFoundError"),
])
@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"], ["ingest", "pyproject.toml"]])
def test_a_database_that_is_not_there_is_one_line_and_exit_1(monkeypatch, url, shown, reason, command):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("WEBCARE_CONFIG", raising=False)
    monkeypatch.setenv("WEBCARE_DATABASE_URL", url)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: database {shown}") and (reason in line or "does not exist" in line), line
    assert "s3cret-pw" not in result.output


def test_license_matches_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == "MIT" and text.startswith("MIT License\n")
    assert "Copyright (c) the webcare-bot contributors" in text

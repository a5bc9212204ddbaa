"""Core and app: a playbook's `channel` front matter — the crisis' own channel is private unless it says `public`."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.crisis.playbooks import parse_playbook, preview_checklist

TEAM = Path(__file__).parents[1] / "fixtures" / "webcare.toml"


def playbook_text(channel_line: str = "") -> str:
    return ("---\n"
            "title: Data breach\n"
            "severity: critical\n"
            "reply_policy: hold\n"
            f"{channel_line}"
            "---\n"
            "## Call legal\n"
            "- owner: legal\n")


def test_without_a_channel_key_the_crisis_channel_is_private():
    playbook, problems = parse_playbook("breach.md", playbook_text())
    assert problems == [] and playbook is not None
    assert playbook.channel == "private"
    assert preview_checklist(playbook, None).private_channel is True


@pytest.mark.parametrize(("line", "private"), [("channel: private\n", True), ("channel: public\n", False)])
def test_the_channel_key_chooses_private_or_public(line, private):
    playbook, problems = parse_playbook("breach.md", playbook_text(line))
    assert problems == [] and playbook is not None
    assert playbook.channel == ("private" if private else "public")
    assert preview_checklist(playbook, None).private_channel is private


@pytest.mark.parametrize(("line", "shown"), [
    ("channel: secret\n", "'secret'"),
    ("channel: Public\n", "'Public'"),
    ("channel: yes\n", "True (bool)"),  # YAML reads a bare yes as true: say what was read
    ("channel:\n", "None (NoneType)"),
])
def test_any_other_channel_value_is_a_problem_on_its_line(line, shown):
    playbook, problems = parse_playbook("breach.md", playbook_text(line))
    assert playbook is None
    assert [str(p) for p in problems] == [f"breach.md:5: unknown channel {shown} (expected one of private | public)"]


def test_playbooks_check_refuses_an_unknown_channel_and_passes_public(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCARE_CONFIG", str(TEAM))
    directory = tmp_path / "playbooks"
    directory.mkdir()
    (directory / "breach.md").write_text(playbook_text("channel: secret\n"), encoding="utf-8")
    (directory / "storm.md").write_text(playbook_text("channel: public\n"), encoding="utf-8")
    result = CliRunner().invoke(main, ["playbooks", "check", str(directory)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{directory / 'breach.md'}:5: unknown channel 'secret' (expected one of private | public)"]
    assert "2 playbooks, 1 problem" in result.stderr

    (directory / "breach.md").write_text(playbook_text(), encoding="utf-8")
    result = CliRunner().invoke(main, ["playbooks", "check", str(directory)])
    assert result.exit_code == 0, result.output
    assert "2 playbooks, 0 problems" in result.stderr

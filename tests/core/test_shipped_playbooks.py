"""The playbooks the repository ships are valid against the shipped example team (as CI checks them)."""

from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.core.crisis.playbooks import load_playbooks

ROOT = Path(__file__).parents[2]


def test_shipped_playbooks_pass_the_check_against_the_example_team():
    playbooks, problems = load_playbooks(ROOT / "playbooks", load_config(ROOT / "webcare.example.toml"))
    assert [str(p) for p in problems] == []
    assert {p.key for p in playbooks} == {"service-outage", "reputation-storm", "data-breach", "product-recall",
                                          "investor-sensitive-news"}
    for playbook in playbooks:
        gates = [step for step in playbook.steps if "replies" in step.unlocks]
        assert len(gates) == 1, playbook.key  # every shipped playbook has a reply gate
        assert len(gates[0].templates) == 2, playbook.key  # a Dutch and an English holding statement


def test_the_check_command_reports_the_shipped_playbooks_clean():
    result = CliRunner().invoke(main, ["playbooks", "check", str(ROOT / "playbooks")],
                                env={"WEBCARE_CONFIG": str(ROOT / "webcare.example.toml")})
    assert result.exit_code == 0, result.output
    assert "5 playbooks, 0 problems" in result.output

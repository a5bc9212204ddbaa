"""`webcare crisis report ID [--out FILE]`: the stored crisis' markdown timeline, for the post-mortem in git."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core import commands as c
from bot.core.mentions import Actor
from bot.storage.database import Database
from handlers import crisis
from handlers.context import Context
from tests.support import TEAM_PLAYBOOKS, TEAM_TOML, team_config


@pytest.fixture
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WEBCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("WEBCARE_CONFIG", str(TEAM_TOML))
    return database_url


def started_and_done(database_url: str) -> int:
    config = team_config()
    anna, carla = (Actor(config.people[k].ref, config.people[k].roles) for k in ("anna", "carla"))

    async def run() -> int:
        db = Database(database_url)
        try:
            ctx = Context(db=db, config=config, playbooks_dir=TEAM_PLAYBOOKS)
            started = await crisis.start_crisis(c.StartCrisis(anna, "outage", drill=True), ctx=ctx)
            await crisis.complete_step(c.CompleteStep(carla, "confirm-the-outage", "status page is red"), ctx=ctx)
            return started.checklist.id
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_report_prints_the_timeline_and_writes_it_to_a_file(environment: str, tmp_path: Path) -> None:
    crisis_id = started_and_done(environment)
    printed = CliRunner().invoke(main, ["crisis", "report", str(crisis_id)])
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith(f"# Drill report: Service outage (#{crisis_id})")
    assert "| Confirm the outage | webcare | 10 min | done | Carla Smit |" in printed.output
    out = tmp_path / "postmortems" / "2026" / "outage.md"  # folders that do not exist yet (the README's recipe)
    written = CliRunner().invoke(main, ["crisis", "report", str(crisis_id), "--out", str(out)])
    assert written.exit_code == 0 and out.read_text(encoding="utf-8") == printed.output


def test_unknown_crisis_is_a_clear_error(environment: str) -> None:
    result = CliRunner().invoke(main, ["crisis", "report", "999"])
    assert result.exit_code == 1 and "There is no crisis #999." in result.output

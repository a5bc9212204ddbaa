"""`webcare ingest FILE`: a JSONL import that stores good lines, counts duplicates and points at bad lines."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.support import event, mention_data


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SQLite file the command creates and migrates; no .env or webcare.toml of the repository."""
    monkeypatch.chdir(tmp_path)
    for name in ("WEBCARE_CONFIG", "SLACK_BOT_TOKEN", "SLACK_TRIAGE_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "import.db"
    monkeypatch.setenv("WEBCARE_DATABASE_URL", f"sqlite:///{path}")
    return path


def run(path: Path) -> Result:
    return CliRunner().invoke(main, ["ingest", str(path)])


def line(ev: dict[str, Any]) -> str:
    return json.dumps(ev, ensure_ascii=False)


def stored(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT source_mention_id, text, state FROM mention ORDER BY id").fetchall()


def test_import_reports_accepted_duplicate_and_each_invalid_line(database, tmp_path):
    jsonl = tmp_path / "mentions.jsonl"
    jsonl.write_text("\n".join([
        line(event(mention_data(1, text="first"))),
        line(event(mention_data(2, text="second"))),
        line(event(mention_data(1, text="first again"))),
        "",
        '{"type": "mention.created", "data": ',
        line(event(mention_data(3, author={"followers": "312"}))),
        line({"type": "mention.batch", "data": {"items": [mention_data(4, text="fourth"), mention_data(2)]}}),
        line(event(mention_data(5, network="myspace"))),
    ]) + "\n")
    result = run(jsonl)
    assert result.exit_code == 1, result.output
    assert "accepted: 3  duplicate: 2  invalid: 3" in result.stdout
    assert f"{jsonl}:5: " in result.stdout
    assert f"{jsonl}:6: data.author.followers" in result.stdout
    assert f"{jsonl}:8: data.network" in result.stdout
    assert f"{jsonl}:4:" not in result.stdout and f"{jsonl}:3:" not in result.stdout
    assert stored(database) == [("mw:doc:1", "first", "new"), ("mw:doc:2", "second", "new"),
                                ("mw:doc:4", "fourth", "new")]


def test_clean_import_exits_0_and_a_second_run_only_finds_duplicates(database, tmp_path):
    jsonl = tmp_path / "mentions.jsonl"
    jsonl.write_text("".join(line(event(mention_data(n))) + "\n" for n in range(1, 4)))
    first = run(jsonl)
    assert first.exit_code == 0, first.output
    assert "accepted: 3  duplicate: 0  invalid: 0" in first.stdout
    again = run(jsonl)
    assert again.exit_code == 0 and "accepted: 0  duplicate: 3  invalid: 0" in again.stdout
    assert len(stored(database)) == 3


def test_unicode_line_separators_inside_text_do_not_split_a_line(database, tmp_path):
    text = "first line\u2028second line\u2029third\x85fourth\x1cfifth"
    jsonl = tmp_path / "mentions.jsonl"
    jsonl.write_text(line(event(mention_data(1, text=text))) + "\r\n" + line(event(mention_data(2))) + "\r\n",
                     encoding="utf-8", newline="")
    result = run(jsonl)
    assert "accepted: 2  duplicate: 0  invalid: 0" in result.stdout, result.output
    assert stored(database)[0][1] == text


def test_line_that_is_not_utf8_is_invalid_and_not_stored_garbled(database, tmp_path):
    jsonl = tmp_path / "mentions.jsonl"
    good = line(event(mention_data(1))).encode()
    latin1 = line(event(mention_data(2, text="caf\u00e9"))).encode("latin-1")
    jsonl.write_bytes(good + b"\n" + latin1 + b"\n")
    result = run(jsonl)
    assert result.exit_code == 1
    assert "accepted: 1  duplicate: 0  invalid: 1" in result.stdout
    assert f"{jsonl}:2: " in result.stdout
    assert [row[0] for row in stored(database)] == ["mw:doc:1"]

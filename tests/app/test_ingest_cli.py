"""`webcare ingest FILE`: a JSONL import that stores good lines, counts duplicates and points at bad lines."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from bot.cli import main
from tests.edges.teams.wire import CHANNEL, card_post, quiet, teams_settings, until
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.slack_api import SlackFake
from tests.support import SLACK_TOKEN, TRIAGE_CHANNEL, context_of, event, mention_data, running_app


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


# -- cards on every platform, and history imported without cards (both databases) ---------------------------


@pytest.fixture
def environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("WEBCARE_CONFIG", "SLACK_BOT_TOKEN", "SLACK_TRIAGE_CHANNEL", "MICROSOFT_APP_ID", "WEBCARE_DEV",
                 "TEAMS_TRIAGE_CHANNEL", "TEAMS_SERVICE_URL", "TEAMS_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBCARE_DATABASE_URL", database_url)
    return database_url


def chat_env(slack: SlackFake, kit: BotFrameworkAuthFake) -> dict[str, str]:
    """What `webcare ingest` sees when the team runs both Slack and Teams."""
    return {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_TRIAGE_CHANNEL": TRIAGE_CHANNEL, "SLACK_API_URL": slack.url,
            "MICROSOFT_APP_ID": kit.app_id, "MICROSOFT_APP_PASSWORD": kit.app_password,
            "TEAMS_TRIAGE_CHANNEL": CHANNEL}


async def cli(args: list[str], env: dict[str, str]) -> Result:
    """Run the command in a thread, as a terminal would, while this loop serves the fakes."""
    return await asyncio.to_thread(CliRunner().invoke, main, args, env=env)


async def mention_rows(client) -> list[tuple[int, str]]:
    async with context_of(client).db.uow() as uow:
        return list((await uow.session.exec(sa.text("SELECT id, state FROM mention ORDER BY id"))).all())


async def count(client, sql: str) -> int:
    async with context_of(client).db.uow() as uow:
        return int((await uow.session.exec(sa.text(sql))).scalar_one())


async def test_imported_mentions_get_cards_on_slack_and_on_teams(environment, tmp_path, slack, kit, connector):
    jsonl = tmp_path / "mentions.jsonl"
    texts = ["Where is my parcel? Ordered last week", "Can I change my delivery address", "Your app keeps crashing"]
    jsonl.write_text("".join(line(event(mention_data(n, text=text))) + "\n" for n, text in enumerate(texts, 1)))
    result = await cli(["ingest", str(jsonl)], chat_env(slack, kit))
    assert result.exit_code == 0 and "accepted: 3" in result.stdout, result.output
    async with running_app(environment, slack.url, **teams_settings(kit, connector)) as client:
        ids = [mention_id for mention_id, _ in await mention_rows(client)]
        await until(client, lambda: len(slack.calls_to("chat.postMessage")) == 3
                    and all(card_post(connector, mention_id) for mention_id in ids), what="a card per platform")
        assert len(connector.posts(CHANNEL)) == 3


async def test_history_imported_closed_posts_no_card_and_stays_out_of_later_imports(environment, tmp_path, slack,
                                                                                     kit, connector):
    history = tmp_path / "history.jsonl"
    last_week = (datetime.now(UTC) - timedelta(days=7, minutes=1)).isoformat()  # history: counted when published
    history.write_text("".join(line(event(mention_data(n, published_at=last_week))) + "\n" for n in range(1, 201)))
    result = await cli(["ingest", "--closed", str(history)], chat_env(slack, kit))
    assert result.exit_code == 0 and "accepted: 200  duplicate: 0  invalid: 0" in result.stdout, result.output
    again = await cli(["ingest", str(history)], chat_env(slack, kit))  # the same posts, now as live mentions
    assert "accepted: 0  duplicate: 200" in again.stdout, again.output
    async with running_app(environment, slack.url, **teams_settings(kit, connector)) as client:
        await quiet(client)
        assert slack.calls_to("chat.postMessage") == [] and connector.posts(CHANNEL) == []
        rows = await mention_rows(client)
        assert len(rows) == 200 and {state for _, state in rows} == {"closed"}
        assert await count(client, "SELECT count(*) FROM mention WHERE received_at = published_at") == 200
        assert await count(client, "SELECT count(*) FROM outbox") == 0
        imported = "SELECT count(*) FROM audit WHERE action = 'imported' AND to_state = 'closed' " \
                   "AND detail = 'imported from history.jsonl'"
        assert await count(client, imported) == 200

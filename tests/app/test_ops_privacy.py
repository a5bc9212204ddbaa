"""Privacy (AVG/GDPR): `webcare privacy erase` and [retention] remove texts and profile data, keep counts, audit it,
and redraw the cards already in Slack so the text disappears there too. Both databases."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main
from bot.config import Retention
from bot.storage.models import utcnow
from bot.storage.repositories import ERASED_TEXT
from tests.edges.teams.wire import until
from tests.support import (
    SLACK_TOKEN,
    TRIAGE_CHANNEL,
    context_of,
    event,
    ingest,
    mention_data,
    relay_of,
    running_app,
    team_config,
)

SANNE = {"id": "88231904", "handle": "sannedv", "display_name": "Sanne de Vries",
         "profile_url": "https://x.com/sannedv", "followers": 312}
OTHER = {"id": "5551234", "handle": "pietk", "display_name": "Piet Klaassen", "profile_url": "https://x.com/pietk"}


def said(n: int, author: dict[str, Any], text: str) -> dict[str, Any]:
    url = f"https://x.com/{author['handle'].lstrip('@').lower()}/status/{n}"
    raw = {"bio": f"{author['display_name']} from Utrecht"}
    return event(mention_data(n, author=author, text=text, url=url, raw=raw))


async def rows(client) -> list[dict[str, Any]]:
    async with context_of(client).db.uow() as uow:
        result = await uow.session.exec(sa.text(
            "SELECT id, state, network, text, url, author_id, author_handle, author_name, author_url, "
            "author_followers, raw FROM mention ORDER BY id"))
        return [dict(row._mapping) for row in result.all()]


async def audits(client, action: str) -> list[tuple[int, str]]:
    async with context_of(client).db.uow() as uow:
        query = sa.text("SELECT mention_id, actor FROM audit WHERE action = :a ORDER BY mention_id")
        return [tuple(row) for row in (await uow.session.exec(query, params={"a": action})).all()]


def raw_of(row: dict[str, Any]) -> dict[str, Any]:
    return row["raw"] if isinstance(row["raw"], dict) else json.loads(row["raw"])


def channel_text(slack) -> str:
    return json.dumps(slack.messages(TRIAGE_CHANNEL), ensure_ascii=False)


def assert_erased(row: dict[str, Any]) -> None:
    assert row["text"] == ERASED_TEXT and raw_of(row) == {}
    assert [row[k] for k in ("url", "author_id", "author_handle", "author_name", "author_url",
                             "author_followers")] == [None] * 6
    assert row["network"] == "x"  # what stays is anonymous: enough to count


async def test_erase_removes_a_persons_texts_and_profile_and_redraws_their_cards(database_url, slack, monkeypatch):
    async with running_app(database_url, slack.url) as client:
        await ingest(client, said(1, SANNE, "my order #48213 never came"), said(2, OTHER, "love the new app"),
                     said(3, {**SANNE, "handle": "@SanneDV"}, "still waiting, call me on 0612345678"))
        await relay_of(client).drain()
        assert "0612345678" in channel_text(slack) and "Sanne de Vries" in channel_text(slack)
        monkeypatch.setenv("WEBCARE_DATABASE_URL", database_url)
        env = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_TRIAGE_CHANNEL": TRIAGE_CHANNEL, "SLACK_API_URL": slack.url}
        args = ["privacy", "erase", "--network", "x", "--handle", "sannedv", "--operator", "dirk"]
        result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
        assert result.exit_code == 0 and "erased 2 mentions by sannedv on x" in result.output, result.output

        gone = ("0612345678", "never came", "Sanne de Vries", "sannedv")
        await until(client, lambda: not any(part in channel_text(slack) for part in gone), what="the cards redrawn")
        shown = channel_text(slack)
        assert "love the new app" in shown and len(slack.calls_to("chat.postMessage")) == 3  # nothing new posted
        first, other, third = await rows(client)
        assert_erased(first)
        assert_erased(third)
        assert other["text"] == "love the new app" and other["author_handle"] == "pietk" and raw_of(other)
        assert await audits(client, "privacy_erase") == [(first["id"], "cli:dirk"), (third["id"], "cli:dirk")]

        again = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
        assert "erased 0 mentions" in again.output


async def test_retention_expires_old_texts_and_raw_payloads_while_serving(database_url, slack):
    for age, n, text in ((timedelta(days=3), 1, "three days old"), (timedelta(days=1.5), 2, "a day and a half"),
                         (timedelta(0), 3, "brand new")):
        async with running_app(database_url, slack.url, clock=lambda age=age: utcnow() - age) as client:
            await ingest(client, said(n, SANNE, text))
            await relay_of(client).drain()
    config = dataclasses.replace(team_config(), retention=Retention(mentions_days=2, raw_days=1))
    async with running_app(database_url, slack.url, config=config) as client:
        await until(client, lambda: "three days old" not in channel_text(slack), what="the old card redrawn")
        old, middle, new = await rows(client)
        assert_erased(old)
        assert middle["text"] == "a day and a half" and middle["author_name"] == "Sanne de Vries"
        assert raw_of(middle) == {} and raw_of(new) == {"bio": "Sanne de Vries from Utrecht"}
        assert new["text"] == "brand new"
        assert await audits(client, "retention_erase") == [(old["id"], "system")]
        assert len(slack.calls_to("chat.postMessage")) == 3


@pytest.mark.parametrize(("text", "problem"), [("[retention]\nmentions_days = -1\n", "positive number of days")])
def test_a_bad_retention_period_stops_the_command_with_one_line(tmp_path, monkeypatch, text, problem):
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    monkeypatch.setenv("WEBCARE_CONFIG", str(path))
    monkeypatch.setenv("WEBCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    result = CliRunner().invoke(main, ["privacy", "erase", "--network", "x", "--handle", "a"])
    assert result.exit_code == 1 and f"{path}: retention.mentions_days: must be a {problem}" in result.output
    assert "Traceback" not in result.output

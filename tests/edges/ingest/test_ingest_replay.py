"""Concurrent replays of one `webhook-id` (docs/contract.md §3): one effect and one answer, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from tests.fakes.slack_api import SlackFake
from tests.support import context_of, mention_data, running_app, signed

ROUTE = "/ingest/v1/mentions"
SENDERS = 12


def batch_body(first: int, size: int = 3) -> bytes:
    """A mention.batch of `size` new mentions numbered from `first`."""
    items = [mention_data(n) for n in range(first, first + size)]
    return json.dumps({"type": "mention.batch", "data": {"items": items}}).encode()


async def deliver(client: TestClient, body: bytes, msg_id: str) -> tuple[int, Any]:
    response = await client.post(ROUTE, data=body, headers=signed(body, msg_id=msg_id))
    return response.status, await response.json()


async def effects(client: TestClient) -> dict[int, tuple[str, int, int]]:
    """Each stored mention: its source id, how many `ingest` audit rows and how many Slack card jobs it has."""
    query = sa.text(
        "SELECT m.id, m.source_mention_id,"
        " (SELECT count(*) FROM audit a WHERE a.mention_id = m.id AND a.action = 'ingest'),"
        " (SELECT count(*) FROM outbox o WHERE o.mention_id = m.id AND o.kind = 'slack.card') FROM mention m")
    async with context_of(client).db.engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in await conn.execute(query)}  # type: ignore[misc]


async def receipts(client: TestClient) -> int:
    async with context_of(client).db.engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM ingestreceipt"))).scalar_one()


def assert_one_effect(answers: list[tuple[int, Any]], stored: dict[int, tuple[str, int, int]],
                      bodies: list[bytes]) -> None:
    """Every caller heard 202 and the same answer: one delivery's new mentions, each audited with its card job."""
    assert [status for status, _ in answers] == [202] * len(answers), answers
    first = answers[0][1]
    assert all(answer == first for _, answer in answers), "callers of one webhook-id got different answers"
    assert [m["duplicate"] for m in first["mentions"]] == [False] * 3
    assert sorted(stored) == sorted(m["id"] for m in first["mentions"]), "mentions stored beyond the answer"
    assert all((audits, jobs) == (1, 1) for _, audits, jobs in stored.values()), stored
    winner = {source_id for source_id, _, _ in stored.values()}
    assert winner in [{item["source_mention_id"] for item in json.loads(b)["data"]["items"]} for b in bodies]


@pytest.mark.parametrize("bodies", ["different", "same"])
async def test_one_webhook_id_sent_at_once_has_one_effect_and_one_answer(database_url, slack: SlackFake, bodies):
    sent = [batch_body(100 * n if bodies == "different" else 0) for n in range(SENDERS)]
    msg_id = f"msg_{uuid.uuid4().hex}"
    async with running_app(database_url, slack.url) as client:
        answers = await asyncio.gather(*(deliver(client, body, msg_id) for body in sent))
        assert_one_effect(answers, await effects(client), sent)
        assert await receipts(client) == 1
        again = await deliver(client, batch_body(5000), msg_id)  # later, and another body: still the first answer
        assert again == answers[0]
        assert len(await effects(client)) == 3


async def test_one_webhook_id_sent_to_two_servers_on_one_database_has_one_effect(database_url, slack: SlackFake):
    """Two processes on one database (each its own engine and group commit) race to commit the same id."""
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(running_app(database_url, slack.url)) for _ in range(2)]
        for trial in range(1, 6):
            sent = [batch_body(10_000 * trial + 100 * n) for n in range(SENDERS)]
            msg_id = f"msg_{uuid.uuid4().hex}"
            answers = await asyncio.gather(*(deliver(servers[n % 2], body, msg_id) for n, body in enumerate(sent)))
            stored = {mention_id: effect for mention_id, effect in (await effects(servers[0])).items()
                      if int(effect[0].removeprefix("mw:doc:")) // 10_000 == trial}
            assert_one_effect(answers, stored, sent)
        assert await receipts(servers[1]) == 5
        assert len(await effects(servers[1])) == 15

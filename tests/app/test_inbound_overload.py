"""App: a database locked by another process gets 503 + Retry-After within about a second, and readiness its answer
within its timeout; what was answered 503 and sent again is stored once."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.app import READY_TIMEOUT_SECONDS
from tests.inbound import served
from tests.support import context_of, event, mention_data, signed

ROUTE = "/ingest/v1/mentions"
DELIVERIES = 50
ANSWER_BOUND = 8.0  # generous: the deadline is three seconds, the machine may be loaded


@asynccontextmanager
async def write_lock_held(url: str) -> AsyncIterator[None]:
    """Another process's transaction holding the tables ingest writes (e.g. `webcare ingest FILE` or a backup)."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        other.execute("UPDATE outbox SET id = id WHERE 0")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    parsed = make_url(url)
    other = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                  password=parsed.password, database=parsed.database)
    transaction = other.transaction()
    await transaction.start()
    await other.execute("LOCK TABLE mention, ingestreceipt IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await other.close()


async def timed(coro) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = await coro
    return time.monotonic() - started, result


async def test_a_locked_database_answers_503_with_retry_after_and_the_retries_store_each_mention_once(
        database_url):
    deliveries = [(body := json.dumps(event(mention_data(n))).encode(), signed(body)) for n in range(DELIVERIES)]
    async with served(database_url) as client:
        async with write_lock_held(database_url):
            answers = await asyncio.gather(*(timed(client.post(ROUTE, data=b, headers=h)) for b, h in deliveries))
        for took, response in answers:
            assert response.status == 503, await response.text()
            assert response.headers["Retry-After"] == "1"
            assert (await response.json())["error"] == "overloaded"
            assert took < ANSWER_BOUND
        # the sender retries with the same webhook-id: each mention is stored once, whatever the first try did
        retries = await asyncio.gather(*(client.post(ROUTE, data=b, headers=h) for b, h in deliveries))
        assert [r.status for r in retries] == [202] * DELIVERIES
        ids = [(await r.json())["mentions"][0]["id"] for r in retries]
        async with context_of(client).db.engine.connect() as conn:
            mentions = (await conn.execute(sa.text("SELECT count(*) FROM mention"))).scalar_one()
        assert len(set(ids)) == mentions == DELIVERIES


async def test_readiness_answers_within_its_timeout_while_another_process_holds_the_lock(database_url):
    async with served(database_url) as client:
        async with write_lock_held(database_url):
            took, ready = await timed(client.get("/readyz"))
            assert ready.status in (200, 503)  # a database that answers reads is ready; one that does not, not
            assert took < READY_TIMEOUT_SECONDS + ANSWER_BOUND
            assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200


async def test_an_unreachable_database_is_one_log_line_however_many_deliveries_fail(caplog):
    async with served("postgresql://nobody@127.0.0.1:1/none") as client:
        for n in range(10):  # one at a time: each is a batch of its own
            response = await client.post(ROUTE, data=(body := json.dumps(event(mention_data(n))).encode()),
                                         headers=signed(body))
            assert response.status == 503
    lines = [r for r in caplog.records if r.name == "bot.ingest.batcher"]
    assert [r.levelname for r in lines] == ["ERROR"], [r.getMessage() for r in lines]
    assert lines[0].getMessage().startswith("ingest: the database unavailable (")

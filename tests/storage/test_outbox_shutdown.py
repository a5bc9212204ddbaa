"""Outbox: a relay stops when it is told to, even when new work wakes it at that very moment (shutdown never hangs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay
from bot.storage.database import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_a_relay_cancelled_as_a_commit_wakes_it_stops(db):
    for _ in range(5):  # each round, the relay is idle, waiting for work or its next poll
        relay = Relay(db, {}, Metrics(), fanout=Fanout(()), poll_seconds=0.05)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.2)
        relay.wake()  # an ingest committed…
        task.cancel()  # …just as the app shuts down
        done, _ = await asyncio.wait({task}, timeout=2)
        if not done:  # it went on running: stop it for good, then fail
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert done, "the relay swallowed its cancellation and kept running: the app's shutdown would hang"

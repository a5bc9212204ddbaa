"""Outbox: relays run the most urgent due job first — people's actions, then P1, P2, P3 cards — whatever came first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay
from bot.storage.database import Database
from bot.storage.models import OutboxJob, utcnow


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def queue(db: Database, *jobs: tuple[str, int, int]) -> None:
    """Jobs (key, priority, seconds ago it came due), as ingest and handlers queue them."""
    now = utcnow()
    async with db.uow() as uow:
        await uow.outbox.sync_many([{"key": key, "kind": "slack.card", "mention_id": None, "payload": {},
                                     "priority": priority} for key, priority, _ in jobs], now)
        for key, _, ago in jobs:
            await uow.session.exec(OutboxJob.__table__.update().where(OutboxJob.key == key)  # type: ignore[call-overload]
                                   .values(due_at=now - timedelta(seconds=ago)))
        await uow.commit()


async def test_lease_takes_the_most_urgent_due_job_before_older_ones(db):
    await queue(db, ("backlog-1", 3, 600), ("backlog-2", 3, 500), ("journalist", 1, 1), ("question", 2, 30),
                ("claim-click", 0, 0))
    async with db.uow() as uow:
        leased = [job.key for job in await uow.outbox.lease_due(utcnow(), "relay-a", 4)]
        await uow.commit()
    assert leased == ["claim-click", "journalist", "question", "backlog-1"]


async def test_a_relay_runs_a_p1_card_that_came_last_before_a_backlog(db):
    await queue(db, *((f"backlog-{n}", 3, 60 - n) for n in range(30)), ("journalist", 1, 0))
    ran: list[str] = []

    async def send(job: OutboxJob) -> None:
        ran.append(job.key)

    relay = Relay(db, {"slack.card": send}, Metrics(), fanout=Fanout(("slack",)), batch=5, concurrency=1)
    try:
        await relay.drain()
    finally:
        await relay.close()
    assert ran[0] == "journalist" and sorted(ran[1:]) == sorted(f"backlog-{n}" for n in range(30))
    assert ran[1:] == [f"backlog-{n}" for n in range(30)]  # the backlog keeps its own order


async def test_when_every_slot_waits_on_the_backlog_an_urgent_job_still_starts_at_once(db):
    await queue(db, ("backlog-1", 3, 60), ("backlog-2", 3, 50))
    release = asyncio.Event()
    started: list[str] = []

    async def send(job: OutboxJob) -> None:  # a card waiting out the channel's pace
        started.append(job.key)
        await release.wait()

    relay = Relay(db, {"slack.card": send}, Metrics(), fanout=Fanout(("slack",)), concurrency=1, urgent_slots=1)
    try:
        assert await relay.run_due() == 1  # the one slot takes the oldest of the backlog
        await queue(db, ("journalist", 1, 0))
        assert await relay.run_due() == 1  # every slot is taken: the extra one takes the P1 card…
        await asyncio.sleep(0)
        assert started == ["backlog-1", "journalist"]
        assert await relay.run_due() == 0  # …and only urgent work: the backlog waits for a slot
        release.set()
        await relay.drain()
        assert started == ["backlog-1", "journalist", "backlog-2"]
    finally:
        release.set()
        await relay.close()


async def test_a_spike_alert_the_check_found_waits_for_a_p1_card_and_one_people_answered_goes_first(db):
    fanout = Fanout(("slack",))
    async with db.uow() as uow:
        await fanout.spike_alert(uow.outbox, 5, {}, utcnow() - timedelta(seconds=30), found=True)
        await uow.commit()
    await queue(db, ("backlog", 3, 600), ("journalist", 1, 0))
    async with db.uow() as uow:
        leased = [job.key for job in await uow.outbox.lease_due(utcnow(), "relay-a", 3)]  # not committed: undone
    assert leased == ["journalist", "slack:spike:5", "backlog"]  # the alert came first, the P1 card still goes first

    async with db.uow() as uow:
        await fanout.spike_alert(uow.outbox, 5, {"answered": True}, utcnow())  # someone clicked Not now
        await uow.commit()
        leased = [job.key for job in await uow.outbox.lease_due(utcnow(), "relay-a", 1)]
    assert leased == ["slack:spike:5"]

"""Outbox leases: a live relay keeps its jobs however slow it is; a gone relay's jobs are free at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay
from bot.storage.database import Database
from bot.storage.models import OutboxJob, utcnow


class Stuck:
    """A sender that holds every job until the test lets go (a slow post, a long lock wait)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.go = asyncio.Event()

    async def __call__(self, job: OutboxJob) -> None:
        self.started.append(job.key)
        await self.go.wait()


@pytest.fixture
async def two_databases(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two handles on one database, as two processes would have (each relay gets its own presence)."""
    first, second = Database(database_url), Database(database_url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


async def owners(db: Database) -> dict[str, str | None]:
    async with db.uow() as uow:
        return {job.key: job.lease_owner for job in (await uow.session.exec(select(OutboxJob))).all()}


async def test_a_live_relays_jobs_are_never_taken_and_a_gone_relays_are_taken_at_once(two_databases):
    db_a, db_b = two_databases
    now = utcnow()
    async with db_a.uow() as uow:
        for n in (1, 2, 3):
            await uow.outbox.sync(f"slack:card:{n}", "slack.card", n, {}, now)
        await uow.commit()
    slow, other = Stuck(), Stuck()
    a = Relay(db_a, {"slack.card": slow}, Metrics(), fanout=Fanout(), concurrency=2)
    # b's clock runs a day ahead: no lease may run out on a live holder, however long it works or waits
    b = Relay(db_b, {"slack.card": other}, Metrics(), fanout=Fanout(), clock=lambda: utcnow() + timedelta(days=1))
    try:
        assert await a.run_due() == 2
        await asyncio.sleep(0)
        held = {key for key, owner in (await owners(db_a)).items() if owner == a.owner}
        assert held == {"slack:card:1", "slack:card:2"} == set(slow.started)

        await b.housekeeping(force=True)
        assert await b.run_due() == 1  # only the job nobody holds
        await asyncio.sleep(0)
        assert other.started == ["slack:card:3"]

        await a.close()  # a's process is gone (its lock with it) without handing anything back
        await b.housekeeping(force=True)
        assert await b.run_due() == 2
        await asyncio.sleep(0)
        assert sorted(other.started) == ["slack:card:1", "slack:card:2", "slack:card:3"]
        assert set((await owners(db_b)).values()) == {b.owner}
    finally:
        slow.go.set()
        other.go.set()
        await asyncio.sleep(0.05)
        await a.close()
        await b.close()


async def test_a_relay_reruns_its_own_job_whose_end_it_could_not_record(two_databases):
    db, _ = two_databases
    async with db.uow() as uow:
        await uow.outbox.sync("slack:card:1", "slack.card", 1, {}, utcnow())
        await uow.commit()
    runs = []

    async def sender(job: OutboxJob) -> None:
        runs.append(job.attempts)

    relay = Relay(db, {"slack.card": sender}, Metrics(), fanout=Fanout())
    try:
        async with db.uow() as uow:  # leased here, but its task ended without a word (the database was away)
            [job] = await uow.outbox.lease_due(utcnow(), relay.owner, 1)
            await uow.commit()
        await relay.housekeeping(force=True)
        await relay.drain()
        assert runs == [2]  # a second attempt: a post that may have gone out is looked for first
        assert await owners(db) == {"slack:card:1": None}
    finally:
        await relay.close()

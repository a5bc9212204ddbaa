"""Storage: spike checks read the mentions of a few short windows by arrival, and keep each alert and its answer."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.core.storms.rules import StormRules
from bot.core.storms.spikes import WEEK, Spike, windows
from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from bot.storage.models import Mention, OutboxJob
from handlers.context import Context
from handlers.spikes import check_spikes
from tests.support import TEAM_PLAYBOOKS, team_config

NOW = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
RULES = StormRules(spike_window_minutes=10, spike_min_mentions=5, spike_ratio=4.0)


async def add_mentions(db: Database, *arrivals: tuple[datetime, str, int | None]) -> list[int]:
    async with db.uow() as uow:
        rows = [Mention(source="test", source_mention_id=f"m{i}-{at.timestamp()}-{text}", network="x", text=text,
                        published_at=at, received_at=at, updated_at=at, storm_id=storm)
                for i, (at, text, storm) in enumerate(arrivals)]
        for row in rows:
            uow.session.add(row)
        await uow.session.flush()
        ids = [row.id or 0 for row in rows]
        await uow.commit()
    return ids


async def test_only_the_window_and_the_same_windows_of_earlier_weeks_are_read(database_url):
    db = Database(database_url)
    try:
        inside = [(NOW, "now", None), (NOW - timedelta(minutes=9), "early in the window", 3),
                  (NOW - WEEK - timedelta(minutes=5), "last week", None),
                  (NOW - 4 * WEEK - timedelta(minutes=1), "four weeks ago", None)]
        outside = [(NOW - timedelta(minutes=10), "just before the window", None),
                   (NOW + timedelta(seconds=1), "after now", None), (NOW - 5 * WEEK, "five weeks ago", None),
                   (NOW - WEEK - timedelta(minutes=11), "last week, earlier", None)]
        await add_mentions(db, *inside, *outside)
        async with db.uow() as uow:
            seen = await uow.spikes.seen(windows(NOW, RULES))
        assert sorted(m.text for m in seen) == sorted(text for _, text, _ in inside)
        assert {m.text: m.storm_id for m in seen}["early in the window"] == 3
    finally:
        await db.dispose()


def test_the_windows_are_found_by_an_index_on_arrival(sqlite_url):
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM mention WHERE (received_at > ? AND received_at <= ?) "
            "OR (received_at > ? AND received_at <= ?)", ("a", "b", "c", "d")))
    assert "ix_mention_received_at" in plan


async def test_an_alert_holds_until_its_spike_is_over_and_takes_one_answer(database_url):
    db = Database(database_url)
    try:
        [first, second] = await add_mentions(db, (NOW, "a", None), (NOW, "b", 9))
        async with db.uow() as uow:
            old = await uow.spikes.record(Spike("all", 20, 0.0, 10.0, (first,), None), NOW)
            await uow.spikes.record(Spike("all", 40, 0.0, 10.0, (first,), None), NOW)
            await uow.spikes.record(Spike("storm:9", 25, 1.5, 10.0, (second,), "outage"), NOW)
            await uow.commit()
        async with db.uow() as uow:
            assert await uow.spikes.holding() == {"all": 40, "storm:9": 25}
            await uow.spikes.end(["all"], NOW)
            assert await uow.spikes.holding() == {"storm:9": 25}
            assert await uow.spikes.decide(old, "not_now", "anna", "Anna", NOW)
            assert not await uow.spikes.decide(old, "crisis", "bram", "Bram", NOW)  # answered already
            assert await uow.spikes.storm_members(9) == [second]
            await uow.commit()
        async with db.uow() as uow:
            alert = await uow.spikes.get(old)
            assert alert is not None and (alert.decision, alert.decided_by, alert.samples) == ("not_now", "anna",
                                                                                                [first])
    finally:
        await db.dispose()


async def test_linking_takes_only_mentions_in_no_crisis_yet(database_url):
    db = Database(database_url)
    try:
        ids = await add_mentions(db, *((NOW, f"m{i}", None) for i in range(3)))
        async with db.uow() as uow:
            assert await uow.spikes.link(ids[:1], 7, NOW) == ids[:1]
            assert await uow.spikes.link(ids, 8, NOW) == ids[1:]
            await uow.commit()
        async with db.uow() as uow:
            crises = (await uow.session.exec(sa.select(Mention.id, Mention.crisis_id).order_by(Mention.id))).all()
        assert [c for _, c in crises] == [7, 8, 8]
    finally:
        await db.dispose()


async def test_a_check_queues_one_alert_per_platform_and_none_again_until_the_count_doubles(database_url):
    db = Database(database_url)
    clock = [NOW]
    ctx = Context(db=db, config=replace(team_config(), storm=RULES), fanout=Fanout(("slack", "teams")),
                  clock=lambda: clock[0], playbooks_dir=TEAM_PLAYBOOKS)
    try:
        await add_mentions(db, *((NOW - timedelta(seconds=i), "Storing bij de app", None) for i in range(5)))
        assert await check_spikes(ctx) == 1
        assert await check_spikes(ctx) == 0
        await add_mentions(db, *((NOW, "Nog steeds storing", None) for _ in range(5)))
        assert await check_spikes(ctx) == 1
        async with db.uow() as uow:
            jobs = (await uow.session.exec(sa.select(OutboxJob.kind, OutboxJob.payload)
                                           .where(OutboxJob.kind.like("%.spike")).order_by(OutboxJob.id))).all()
        assert [(kind, payload["topic"], payload["count"], payload["playbook"]) for kind, payload in jobs] == [
            ("slack.spike", "playbook:outage", 5, "outage"), ("teams.spike", "playbook:outage", 5, "outage"),
            ("slack.spike", "playbook:outage", 10, "outage"), ("teams.spike", "playbook:outage", 10, "outage")]
    finally:
        await db.dispose()


async def test_a_spike_check_waits_while_another_process_checks(postgres_url):
    """Two processes' checks never interleave: the second reads the alerts after the first committed them."""
    dbs = [Database(postgres_url) for _ in range(2)]
    contexts = [Context(db=db, config=replace(team_config(), storm=RULES), fanout=Fanout(("slack",)),
                        clock=lambda: NOW, playbooks_dir=TEAM_PLAYBOOKS) for db in dbs]
    try:
        await add_mentions(dbs[0], *((NOW - timedelta(seconds=i), "Storing bij de app", None) for i in range(5)))
        async with dbs[0].uow() as uow:
            await uow.spikes.hold_checks()  # the first process is checking
            second = asyncio.create_task(check_spikes(contexts[1]))
            await asyncio.sleep(0.5)
            assert not second.done()
        assert await second == 1
        assert await asyncio.gather(*(check_spikes(ctx) for ctx in contexts)) == [0, 0]
    finally:
        for db in dbs:
            await db.dispose()

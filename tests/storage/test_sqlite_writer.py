"""SQLite writes on the loop: waiting for another process without blocking it, and checkpointed off it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage.database import Database, sync_sqlite_engine
from bot.storage.models import IngestReceipt
from bot.storage.sqlite_writer import RESTART_FRAMES, SqliteWriter

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
async def writer(sqlite_url: str) -> AsyncIterator[SqliteWriter]:
    running = SqliteWriter(partial(sync_sqlite_engine, sqlite_url), busy_timeout_s=30, checkpoint_every=5)
    yield running
    await running.dispose()


@contextmanager
def another_process_writing(sqlite_url: str) -> Iterator[None]:
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


async def ticks_meanwhile(task: asyncio.Task[object]) -> None:
    """Let the loop run 20 ticks of 10 ms while `task` waits: they take about 0.2 s unless the loop is blocked."""
    started = time.monotonic()
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 1.0  # it never sat in SQLite's busy wait
    assert not task.done()


def add_receipt(conn: sa.Connection, webhook_id: str, calls: list[str] | None = None) -> None:
    if calls is not None:
        calls.append(webhook_id)
    conn.execute(sa.insert(IngestReceipt.__table__), {"webhook_id": webhook_id, "received_at": NOW, "response": {}})


def receipts_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM ingestreceipt").fetchone()[0]


async def test_a_batch_waits_for_another_writer_without_blocking_the_loop_and_runs_once(writer, sqlite_url):
    calls: list[str] = []
    with another_process_writing(sqlite_url):
        batch = asyncio.create_task(writer.run(partial(add_receipt, webhook_id="msg_1", calls=calls)))
        await ticks_meanwhile(batch)
    await asyncio.wait_for(batch, 10)
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 1
    assert calls == ["msg_1"]  # it waited at BEGIN, before running the batch


async def test_a_unit_of_work_waits_for_another_writer_without_blocking_the_loop(sqlite_url):
    db = Database(sqlite_url)
    try:
        async def add_one() -> None:
            async with db.uow() as uow:
                await uow.session.exec(sa.insert(IngestReceipt.__table__).values(
                    webhook_id="msg_uow", received_at=NOW, response={}))
                await uow.commit()

        with another_process_writing(sqlite_url):
            unit = asyncio.create_task(add_one())
            await ticks_meanwhile(unit)
        await asyncio.wait_for(unit, 10)
    finally:
        await db.dispose()
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 1


async def test_a_writer_kept_out_past_the_busy_timeout_gives_up_and_the_next_one_writes(sqlite_url):
    writer = SqliteWriter(partial(sync_sqlite_engine, sqlite_url), busy_timeout_s=0.2)
    try:
        with another_process_writing(sqlite_url):
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                await writer.run(partial(add_receipt, webhook_id="msg_late"))
        await writer.run(partial(add_receipt, webhook_id="msg_next"))
    finally:
        await writer.dispose()
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 1


@pytest.mark.parametrize("commits", [True, False])
async def test_a_unit_of_work_that_ran_no_statement_leaves_no_transaction_behind(sqlite_url, commits):
    db = Database(sqlite_url)
    try:
        async with db.uow() as uow:
            if commits:
                await uow.commit()
        async with db.uow() as uow:  # would fail to begin if the first had left its transaction open
            await uow.session.exec(sa.insert(IngestReceipt.__table__).values(
                webhook_id="msg_after", received_at=NOW, response={}))
            await uow.commit()
        await db.run_in_transaction(partial(add_receipt, webhook_id="msg_batch"))
    finally:
        await db.dispose()
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 2


async def test_a_failing_batch_is_rolled_back_and_not_retried(writer, sqlite_url):
    await writer.run(partial(add_receipt, webhook_id="msg_1"))
    calls: list[str] = []

    def twice(conn: sa.Connection) -> None:
        add_receipt(conn, "msg_2", calls)
        add_receipt(conn, "msg_1", calls)  # already there

    with pytest.raises(sa.exc.IntegrityError):
        await writer.run(twice)
    assert calls == ["msg_2", "msg_1"]
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 1


async def test_batches_committed_on_the_loop_are_checkpointed_into_the_database_file(writer, sqlite_url, tmp_path):
    for n in range(20):
        await writer.run(partial(add_receipt, webhook_id=f"msg_{n}"))
    # The file alone (without its write-ahead log) holds only what a checkpoint copied into it.
    copy = tmp_path / "file-only.db"
    for _ in range(100):
        shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), copy)
        if receipts_in(copy) >= 15:
            break
        await asyncio.sleep(0.05)
    assert receipts_in(copy) >= 15


def twenty_receipts(conn: sa.Connection, batch: int) -> None:
    conn.execute(sa.insert(IngestReceipt.__table__), [
        {"webhook_id": f"msg_{batch}_{n}", "received_at": NOW, "response": {"text": "x" * 2000}} for n in range(20)])


async def steady_writes(sqlite_url: str, *, restart_frames: int) -> tuple[int, int]:
    """Write 400 batches (about 16 MB) steadily; how often the write-ahead log started over, and how many
    batches found the writers' lock held (by the checkpoint's second pass: nothing else takes it here)."""
    log = Path(sqlite_url.removeprefix("sqlite:///") + "-wal")
    writer = SqliteWriter(partial(sync_sqlite_engine, sqlite_url), busy_timeout_s=30, checkpoint_every=5,
                          restart_frames=restart_frames)

    def generation() -> int:  # the log header's checkpoint sequence number: one more at each fresh start
        with log.open("rb") as f:
            return int.from_bytes(f.read(16)[12:16], "big")

    held = 0
    try:
        await writer.run(partial(twenty_receipts, batch=-1))
        first = generation()
        for batch in range(400):
            held += writer.lock.locked()
            async with writer.lock:
                await writer.run(partial(twenty_receipts, batch=batch))
            await asyncio.sleep(0)  # the server's writer awaits its next delivery here
        starts = generation() - first  # before closing: the last connection to close removes the log
    finally:
        await writer.dispose()
    assert receipts_in(Path(sqlite_url.removeprefix("sqlite:///"))) == 8020
    return starts, held


async def test_a_long_write_ahead_log_starts_over_under_steady_writes(sqlite_url):
    # A checkpoint running beside the writes never copies all of the log, and only a complete one lets
    # the next write start the log over: without the checkpoint's second pass the log holds every batch.
    starts, held = await steady_writes(sqlite_url, restart_frames=500)
    assert starts >= 3
    assert held >= 1


async def test_writers_are_not_held_for_a_checkpoint_while_the_log_is_short(sqlite_url):
    # The second pass pauses ingest, so it waits for a long log; these 16 MB are below the default.
    _starts, held = await steady_writes(sqlite_url, restart_frames=RESTART_FRAMES)
    assert held == 0

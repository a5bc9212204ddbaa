"""SQLite batch transactions: on the event loop when the write lock is free at once, else on a thread that waits.

A short batch (the ingest group commit) costs less run in place than handed to a thread, but the loop
must never sleep in SQLite's busy handler while another process holds the write lock, nor wait for a
checkpoint's fsync. So the loop's connection has no busy timeout and never checkpoints: a busy database
sends the batch to the thread's connection, which waits up to the busy timeout and also checkpoints the
write-ahead log every CHECKPOINT_EVERY batches committed on the loop.

SQLite starts the log over only when a write begins after a checkpoint copied all of it. Under steady
ingest a checkpoint running beside the writes never catches up, and the log would grow without end
(every page read then searches a longer log index: at 300 MB, ingest took twice as long). So once the
log holds RESTART_FRAMES, the checkpoint ends with a second pass while our writers wait, and the next
write starts the log over. That pass pauses ingest for milliseconds (a thread's turn at the GIL, the
frames written meanwhile, two fsyncs), so it waits for a large log: at 500 mentions/s, every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

logger = logging.getLogger(__name__)

CHECKPOINT_EVERY = 64
RESTART_FRAMES = 16_384  # 64 MiB of log at SQLite's default 4 KiB pages

T = TypeVar("T")


def _transaction(engine: sa.Engine, fn: Callable[[sa.Connection], T]) -> T:
    with engine.begin() as conn:
        return fn(conn)


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class SqliteBatches:
    """Runs `fn(connection)` in one write transaction; the caller holds `writer`, which serialises our writers."""

    def __init__(self, make_engine: Callable[..., sa.Engine], writer: asyncio.Lock, *,
                 checkpoint_every: int = CHECKPOINT_EVERY, restart_frames: int = RESTART_FRAMES) -> None:
        """`make_engine(busy_timeout_ms=…, autocheckpoint=…)` opens a synchronous engine on the database."""
        self._on_loop = make_engine(busy_timeout_ms=0, autocheckpoint=False)
        self._loop_conn: sa.Connection | None = None  # kept open: a checkout per batch costs as much as a row
        self._waiting = make_engine(autocheckpoint=True)
        self._writer = writer
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-batch")
        self._checkpoint_every, self._since_checkpoint = checkpoint_every, 0
        self._restart_frames = restart_frames
        self._checkpointing: asyncio.Task[None] | None = None

    async def run(self, fn: Callable[[sa.Connection], T]) -> T:
        """Commit `fn`'s writes; rolled back and raised if it raises. `fn` may run twice (once rolled back)."""
        if self._loop_conn is None:
            self._loop_conn = self._on_loop.connect()
        try:
            with self._loop_conn.begin():
                result = fn(self._loop_conn)
        except sa.exc.OperationalError as exc:
            if not _is_busy(exc):
                raise
            # Another process writes: wait for it on the thread (the first attempt was rolled back).
            return await asyncio.get_running_loop().run_in_executor(self._thread, _transaction, self._waiting, fn)
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every and self._checkpointing is None:
            self._since_checkpoint = 0
            self._checkpointing = asyncio.create_task(self._checkpoint(), name="sqlite-checkpoint")
            self._checkpointing.add_done_callback(self._checkpointed)
        return result

    async def _checkpoint(self) -> None:
        """Copy the log into the database file beside the writes; if it is long, the rest while they wait."""
        loop = asyncio.get_running_loop()
        frames = await loop.run_in_executor(self._thread, self._passive_checkpoint)
        if frames >= self._restart_frames:
            async with self._writer:  # the rest is what came in meanwhile: a short pass
                await loop.run_in_executor(self._thread, self._passive_checkpoint)

    def _passive_checkpoint(self) -> int:
        """Copy what it can of the log into the database file; the frames the log holds (0 if it failed)."""
        conn = self._waiting.raw_connection()  # no BEGIN: a checkpoint runs outside any transaction
        try:
            cursor = conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            _busy, frames, _copied = cursor.fetchone()
            cursor.close()
            return int(frames)
        except sqlite3.Error as exc:  # a later checkpoint catches up; nothing was lost
            logger.warning("sqlite: write-ahead log checkpoint failed (%s)", type(exc).__name__)
            return 0
        finally:
            conn.close()

    def _checkpointed(self, task: asyncio.Task[None]) -> None:
        self._checkpointing = None
        if not task.cancelled() and task.exception() is not None:
            logger.warning("sqlite: checkpoint failed (%s)", type(task.exception()).__name__)

    async def dispose(self) -> None:
        """Finish the checkpoint and the thread's work, and close both connections."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        self._thread.shutdown(wait=True)
        if self._loop_conn is not None:
            self._loop_conn.close()
        self._on_loop.dispose()
        self._waiting.dispose()

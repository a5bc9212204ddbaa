"""SQLite writes on the event loop: one connection, the write lock awaited (never slept on), checkpoints off the loop.

Every write transaction of the process, an ingest batch or a unit of work, runs in place on one
synchronous connection: SQLite's work for a transaction is shorter than a hop to a thread and back,
and a unit of work made of such hops held the process's one write lock for milliseconds. The loop
must never sleep in SQLite's busy handler while another process holds the write lock, so the
connection has no busy timeout: BEGIN IMMEDIATE is retried with `asyncio.sleep` in between. Once it
succeeds nothing inside the transaction waits (WAL readers never block the writer, and this
connection never checkpoints). A thread checkpoints the write-ahead log every CHECKPOINT_EVERY commits.

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
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.util import immutabledict
from sqlmodel import Session

logger = logging.getLogger(__name__)

CHECKPOINT_EVERY = 64
RESTART_FRAMES = 16_384  # 64 MiB of log at SQLite's default 4 KiB pages
FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS = 0.001, 0.05
_PREBUFFERED = immutabledict({"prebuffer_rows": True})  # results as AsyncSession gives them: read whole

T = TypeVar("T")


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class SqliteWriter:
    """The process's write connection; whoever writes holds `lock`, which serialises our writers."""

    def __init__(self, make_engine: Callable[..., sa.Engine], *, busy_timeout_s: float,
                 checkpoint_every: int = CHECKPOINT_EVERY, restart_frames: int = RESTART_FRAMES) -> None:
        """`make_engine(busy_timeout_ms=…, autocheckpoint=…)` opens a synchronous engine on the database."""
        self._engine = make_engine(busy_timeout_ms=0, autocheckpoint=False)
        self._conn: sa.Connection | None = None  # kept open: a checkout per transaction costs as much as a row
        self._checkpoints = make_engine(autocheckpoint=True)
        # Our writers queue here, fairly and cheaply; the busy timeout is for other processes sharing the file.
        self.lock = asyncio.Lock()
        self._busy_timeout_s = busy_timeout_s
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._checkpoint_every, self._since_checkpoint = checkpoint_every, 0
        self._restart_frames = restart_frames
        self._checkpointing: asyncio.Task[None] | None = None

    async def begin(self) -> tuple[sa.Connection, sa.RootTransaction]:
        """The connection in a new write transaction, once SQLite's write lock is ours (OperationalError after
        the busy timeout, as SQLite's own wait would give)."""
        if self._conn is None:
            self._conn = self._engine.connect()
        deadline, pause = time.monotonic() + self._busy_timeout_s, FIRST_RETRY_SECONDS
        while True:
            try:
                return self._conn, self._conn.begin()
            except sa.exc.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)  # another process writes: the loop goes on meanwhile
            pause = min(pause * 2, LONGEST_RETRY_SECONDS)

    async def run(self, fn: Callable[[sa.Connection], T]) -> T:
        """Commit `fn`'s writes; rolled back and raised if it raises."""
        conn, transaction = await self.begin()
        with transaction:
            result = fn(conn)
        self.committed()
        return result

    def committed(self) -> None:
        """Count a committed transaction; every CHECKPOINT_EVERY of them, checkpoint the log off the loop."""
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every and self._checkpointing is None:
            self._since_checkpoint = 0
            self._checkpointing = asyncio.create_task(self._checkpoint(), name="sqlite-checkpoint")
            self._checkpointing.add_done_callback(self._checkpointed)

    async def _checkpoint(self) -> None:
        """Copy the log into the database file beside the writes; if it is long, the rest while they wait."""
        loop = asyncio.get_running_loop()
        frames = await loop.run_in_executor(self._thread, self._passive_checkpoint)
        if frames >= self._restart_frames:
            async with self.lock:  # the rest is what came in meanwhile: a short pass
                await loop.run_in_executor(self._thread, self._passive_checkpoint)

    def _passive_checkpoint(self) -> int:
        """Copy what it can of the log into the database file; the frames the log holds (0 if it failed)."""
        conn = self._checkpoints.raw_connection()  # no BEGIN: a checkpoint runs outside any transaction
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
        if self._conn is not None:
            self._conn.close()
        self._engine.dispose()
        self._checkpoints.dispose()


class InlineSession:
    """The AsyncSession calls the repositories make, run in place on the writer's connection.

    The session takes the transaction `SqliteWriter.begin` opened as its own: its commit commits it,
    its rollback and close roll it back.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self._session = Session(bind=conn, join_transaction_mode="control_fully", expire_on_commit=False,
                                autoflush=False)

    @property
    def bind(self) -> sa.Connection:
        """The connection (its `dialect` says which database this is)."""
        return self._session.get_bind()  # type: ignore[return-value]

    async def exec(self, statement: Any, *, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
                   execution_options: Mapping[str, Any] = immutabledict()) -> Any:
        """Run a statement; rows are read whole, as AsyncSession reads them."""
        return self._session.exec(statement, params=params, execution_options=_PREBUFFERED.union(execution_options))

    async def get(self, entity: type[T], ident: Any, **kw: Any) -> T | None:
        """The row with this primary key, or None."""
        return self._session.get(entity, ident, **kw)

    def add(self, instance: object) -> None:
        """Stage a new row (written at the next flush)."""
        self._session.add(instance)

    async def flush(self) -> None:
        """Write what was staged."""
        self._session.flush()

    async def commit(self) -> None:
        """Flush, then commit the transaction."""
        self._session.commit()

    async def rollback(self) -> None:
        """Roll the transaction back."""
        self._session.rollback()

    async def close(self) -> None:
        """End the session (rolling back what was not committed)."""
        self._session.close()

    def in_transaction(self) -> bool:
        """Whether the session has begun work that is neither committed nor rolled back."""
        return self._session.in_transaction()

    def expunge_all(self) -> None:
        """Detach every loaded row, so it stays readable after the session ends."""
        self._session.expunge_all()

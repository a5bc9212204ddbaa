"""Database engine (SQLite by default, PostgreSQL in production) and the unit of work."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.daily import DailyReads
from bot.storage.json_text import dumps
from bot.storage.pace import ChatPaces
from bot.storage.raw_sql import sqlalchemy_errors
from bot.storage.repositories import Audits, ChatChannels, ChatMessages, Crises, Drafts, Mentions, Outbox
from bot.storage.sla import SlaEvents
from bot.storage.spikes import SpikeAlerts
from bot.storage.sqlite_writer import InlineSession, SqliteWriter
from bot.storage.storms import Storms

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
PING_TIMEOUT_SECONDS = 2.0

T = TypeVar("T")


def async_url(url: str) -> sa.URL:
    """Map `sqlite:///…` and `postgresql://…` to the async drivers this app uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"WEBCARE_DATABASE_URL: unsupported database {backend!r} (use sqlite:/// or postgresql://)")


def create_engine(url: str) -> AsyncEngine:
    """An async engine; on SQLite with WAL, a busy timeout and write transactions that lock up front."""
    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        return create_async_engine(target, pool_size=10, max_overflow=10, pool_pre_ping=True, json_serializer=dumps)
    if target.database and target.database != ":memory:":
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                                 pool_size=5, max_overflow=5, json_serializer=dumps)
    _configure_sqlite(engine.sync_engine)
    return engine


def _configure_sqlite(engine: sa.Engine, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                      autocheckpoint: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes can fail with "database is locked" without
        # waiting; taking the write lock at BEGIN makes the busy timeout apply instead.
        driver = conn.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):  # a synchronous engine: straight to the driver
            with sqlalchemy_errors("BEGIN IMMEDIATE"):
                driver.execute("BEGIN IMMEDIATE").close()
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def sync_sqlite_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                        autocheckpoint: bool = True) -> sa.Engine:
    """One synchronous connection on the SQLite file, configured like the async engine's."""
    engine = sa.create_engine(async_url(url).set(drivername="sqlite+pysqlite"), poolclass=sa.pool.StaticPool,
                              connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
                              json_serializer=dumps)
    _configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms, autocheckpoint=autocheckpoint)
    return engine


def _sqlite_ping(path: str, timeout: float) -> None:
    """Open the file and read its schema, waiting at most `timeout` seconds for another process's lock."""
    target, uri = (path, False) if path == ":memory:" else (f"{Path(path).absolute().as_uri()}?mode=rw", True)
    conn = sqlite3.connect(target, timeout=timeout, uri=uri)  # mode=rw: a missing file is an error, not created
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


class UnitOfWork:
    """One transaction around the repositories; leaving without `commit()` rolls back.

    On SQLite it holds the process's write lock throughout and runs in place on the writer's connection.
    """

    def __init__(self, engine: AsyncEngine, sqlite: SqliteWriter | None = None) -> None:
        self._engine, self._sqlite = engine, sqlite
        self._transaction: sa.RootTransaction | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._sqlite is not None:
            await self._sqlite.lock.acquire()
        try:
            self.session = await self._open()
        except BaseException:
            self._release()
            raise
        self.mentions = Mentions(self.session)
        self.drafts = Drafts(self.session)
        self.audit = Audits(self.session)
        self.outbox = Outbox(self.session)
        self.messages = ChatMessages(self.session)
        self.channels = ChatChannels(self.session)
        self.crises = Crises(self.session)
        self.paces = ChatPaces(self.session)
        self.storms = Storms(self.session)
        self.spikes = SpikeAlerts(self.session)
        self.daily = DailyReads(self.session)
        self.sla = SlaEvents(self.session)
        return self

    async def _open(self) -> AsyncSession | InlineSession:
        if self._sqlite is not None:
            conn, self._transaction = await self._sqlite.begin()
            return InlineSession(conn)
        session = AsyncSession(self._engine, expire_on_commit=False, autoflush=False)
        try:
            await session.begin()
        except BaseException:
            await session.close()
            raise
        return session

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        # Shielded: a task cancelled again while rolling back (shutdown) must still end its transaction
        # and free the connection, or SQLite's write lock stays held and the next writer waits it out.
        await asyncio.shield(self._finish())

    async def _finish(self) -> None:
        try:
            self.session.expunge_all()  # what was read stays readable after the rollback below
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
                if self._transaction is not None and self._transaction.is_active:  # a session that ran nothing
                    self._transaction.rollback()
            finally:
                self._release()

    def _release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.lock.release()

    async def commit(self) -> None:
        """Make every change of this unit of work durable at once."""
        await self.session.commit()
        if self._sqlite is not None and self._transaction is not None:
            if self._transaction.is_active:  # a session that ran nothing leaves the transaction to us
                self._transaction.commit()
            self._sqlite.committed()


class Database:
    """The engine and a factory of units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # SQLite has one writer at a time: ours write in place on one connection, in turn.
        self._sqlite = SqliteWriter(partial(sync_sqlite_engine, url), busy_timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000) \
            if self.is_sqlite else None

    def uow(self) -> UnitOfWork:
        """A new unit of work (use as `async with db.uow() as uow`)."""
        return UnitOfWork(self.engine, self._sqlite)

    async def run_in_transaction(self, fn: Callable[[sa.Connection], T]) -> T:
        """Run `fn` with a synchronous connection in one transaction, committed if it returns."""
        if self._sqlite is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn)
        async with self._sqlite.lock:
            return await self._sqlite.run(fn)

    async def ping(self, timeout: float = PING_TIMEOUT_SECONDS) -> None:
        """Raise unless the database answers within `timeout` seconds (TimeoutError if it does not)."""
        if self.is_sqlite:
            # On its own connection and thread: a connection of the pool that waits in SQLite's busy handler
            # (another process holds a lock) cannot be interrupted, and cancelling the wait would wait for it.
            path = self.engine.url.database or ":memory:"
            await asyncio.wait_for(asyncio.to_thread(_sqlite_ping, path, timeout), timeout)
            return
        async with asyncio.timeout(timeout), self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._sqlite is not None:
            await self._sqlite.dispose()

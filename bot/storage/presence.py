"""Relay presence: each relay process holds a lock for as long as it lives, so others can tell it is gone.

A job a relay leases carries the relay's owner id. The lock behind that id is released by the operating
system or the database the moment the process dies (PostgreSQL: a session-level advisory lock on a
connection of its own; SQLite, which lives on one host: an exclusive `flock` on a file beside the
database), so its jobs are free at once after a `kill -9` — while a live process, however slow, keeps
them: a lock wait or a long post never makes it look dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.repositories import Outbox

logger = logging.getLogger(__name__)


class Presence(Protocol):
    """What the relay needs: its own owner id, held while it lives, and which other owners are gone."""

    owner: str

    async def hold(self, *, check: bool = False) -> None:
        """Take this process's lock unless held (with `check`, make sure it still is); raises while unreachable."""

    async def gone(self, outbox: Outbox, owners: Iterable[str]) -> set[str]:
        """Which of these owners (never this one) no longer hold their lock."""

    async def release(self) -> None:
        """Let the lock go (a clean stop)."""


def _owner_key() -> int:
    """A positive 62-bit id: the advisory lock key on PostgreSQL, the file name on SQLite."""
    return secrets.randbits(62) or 1


class PostgresPresence:
    """A session-level advisory lock, held on a connection kept for it; a dead process's session ends with it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._key = _owner_key()
        self.owner = str(self._key)
        self._conn: AsyncConnection | None = None
        self._taking = asyncio.Lock()  # the relay loop and a drain may ask at once: one session takes the lock

    async def hold(self, *, check: bool = False) -> None:
        async with self._taking:
            await self._hold(check)

    async def _hold(self, check: bool) -> None:
        if self._conn is not None:
            if not check:
                return
            try:
                await self._conn.execute(sa.text("SELECT 1"))
                await self._conn.commit()
                return
            except Exception:  # the session is gone, and the lock with it: take it again below
                await self._drop()
        conn = await self._engine.connect()
        try:
            got = (await conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})).scalar()
            await conn.commit()  # idle, outside a transaction; the session keeps the lock
        except BaseException:
            await conn.close()
            raise
        if not got:  # 2^-62: another live relay drew the same id
            await conn.close()
            raise RuntimeError("relay owner id already taken; a new one is drawn")
        self._conn = conn

    async def gone(self, outbox: Outbox, owners: Iterable[str]) -> set[str]:
        found = set()
        for owner in owners:
            if owner != self.owner and await outbox.owner_lock_free(int(owner)):
                found.add(owner)
        return found

    async def release(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing the session releases the lock either way
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()


class FilePresence:
    """An exclusive `flock` on `<database>-relays/<owner>.lock`, which the kernel drops when the process dies."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self.owner = str(_owner_key())
        self._fd: int | None = None

    async def hold(self, *, check: bool = False) -> None:
        # Synchronous from the check to the lock, so two callers on one loop never both open the file.
        if self._fd is not None:
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir / f"{self.owner}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    async def gone(self, outbox: Outbox, owners: Iterable[str]) -> set[str]:
        return {owner for owner in owners if owner != self.owner and not self._alive(owner)}

    def _alive(self, owner: str) -> bool:
        if not owner.isdigit():
            return False
        path = self._dir / f"{owner}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # stopped cleanly (or never had a lock here)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also lets go of the dead owner's lock if we just took it
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return False

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(FileNotFoundError):
                (self._dir / f"{self.owner}.lock").unlink()
            os.close(fd)


def presence_for(engine: AsyncEngine) -> Presence:
    """The presence that fits the database: an advisory lock on PostgreSQL, a file lock beside a SQLite file."""
    if engine.dialect.name == "postgresql":
        return PostgresPresence(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the outbox relay needs a database file (an in-memory SQLite database has no neighbours)")
    path = Path(database)
    return FilePresence(path.with_name(f"{path.name}-relays"))

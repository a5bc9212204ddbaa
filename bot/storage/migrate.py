"""Apply the Alembic migrations (`webcare db upgrade`; `serve` does it itself on SQLite) and read the revisions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

import migrations
from bot.logs import describe
from bot.storage.database import async_url, create_engine

REACH_SECONDS = 10.0  # how long a database may take to answer before it counts as unreachable


class DatabaseUnavailable(Exception):
    """The database cannot be reached (or opened); the message is one line, without the password."""


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration pointing at our migrations and this database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("webcare.database_url", database_url)
    return cfg


def shown_url(database_url: str) -> str:
    """The database URL as it may be printed: the password hidden."""
    try:
        return async_url(database_url).set(drivername=make_url(database_url).drivername) \
            .render_as_string(hide_password=True)
    except (ValueError, sa.exc.ArgumentError):
        return "(unparsable WEBCARE_DATABASE_URL)"


def head_revision() -> str | None:
    """The newest migration this version of the bot ships."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(database_url: str, *, timeout: float = REACH_SECONDS) -> str | None:
    """The revision the database is at (None: never migrated); DatabaseUnavailable if it does not answer."""
    sqlite_file = _sqlite_file(database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        raise DatabaseUnavailable(f"database {shown_url(database_url)}: the file {sqlite_file} does not exist")
    engine = None
    try:
        engine = create_engine(database_url)
        async with asyncio.timeout(timeout), engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError) as exc:
        raise _unavailable(database_url, exc) from None
    finally:
        if engine is not None:
            await engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (run outside any event loop); DatabaseUnavailable if it cannot be reached."""
    asyncio.run(_reach(database_url))
    command.upgrade(alembic_config(database_url), revision)


async def _reach(database_url: str, timeout: float = REACH_SECONDS) -> None:
    """Connect once, so an unreachable database is one clear line instead of a migration's traceback."""
    engine = None
    try:
        engine = create_engine(database_url)
        async with asyncio.timeout(timeout), engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError) as exc:
        raise _unavailable(database_url, exc) from None
    finally:
        if engine is not None:
            await engine.dispose()


def _unavailable(database_url: str, exc: BaseException) -> DatabaseUnavailable:
    while exc.__cause__ is not None:  # the driver's own error says it best (asyncpg's, under SQLAlchemy's)
        exc = exc.__cause__
    reason = describe(exc)
    password = make_url(database_url).password if "://" in database_url else None
    if password:
        reason = reason.replace(str(password), "***")
    return DatabaseUnavailable(f"database {shown_url(database_url)} is unreachable: {reason}")


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)

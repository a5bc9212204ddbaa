"""Storage: the Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import asyncio
import sqlite3

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401  (registers the tables)
from bot.storage.database import create_engine
from bot.storage.migrate import alembic_config


def schema_drift(url: str) -> list:
    async def compare() -> list:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                                  SQLModel.metadata))
        finally:
            await engine.dispose()
    return asyncio.run(compare())


def test_migrated_schema_matches_the_models(database_url):
    assert schema_drift(database_url) == []


def test_migrations_go_down_and_up_again(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert schema_drift(database_url) == []


def test_crisis_lookups_use_indexes_that_skip_rows_without_a_crisis(sqlite_url):
    """Ingest writes no index entry for an unlinked mention or audit row, and `crisis_id = ?` still searches."""
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        for table in ("mention", "audit"):
            [(sql,)] = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (f"ix_{table}_crisis_id",))
            assert sql.endswith("WHERE crisis_id IS NOT NULL")
            [*_, plan] = conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE crisis_id = ?", (1,)).fetchone()
            assert f"USING COVERING INDEX ix_{table}_crisis_id" in plan or f"USING INDEX ix_{table}_crisis_id" in plan

"""The ingest's raw SQLite statements store exactly what SQLAlchemy would, and read back what it would."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.storage.database import sync_sqlite_engine
from bot.storage.ingest import _earlier_answers_statement, _insert_mentions
from bot.storage.models import IngestReceipt, Mention, OutboxJob
from bot.storage.raw_sql import RawSelect, insert_each, insert_rows, select_rows
from bot.storage.repositories import fresh_job, outbox_sync_statement

# Whole seconds: SQLite's own adapter would write these without ".000000", SQLAlchemy with.
WHOLE_SECOND = datetime(2026, 11, 20, 10, 0, 7, tzinfo=UTC)
MENTION = {"source": "meltwater", "network": "x", "network_item_id": None, "url": "https://x.com/s/1",
           "kind": "post", "in_reply_to_id": None, "author_id": "7", "author_handle": "sannedv",
           "author_name": "Sanne <!channel>", "author_url": None, "author_followers": 1200, "author_verified": True,
           "text": "Storing? 🙄 'quotes' \"too\"", "lang": "nl", "published_at": WHOLE_SECOND,
           "reply_via": "webhook", "raw": {"nested": {"list": [1, None, "é"]}}, "state": "new", "version": 0,
           "escalated_to": [], "received_at": WHOLE_SECOND, "updated_at": WHOLE_SECOND}


@pytest.fixture
def engine(sqlite_url: str) -> sa.Engine:
    engine = sync_sqlite_engine(sqlite_url)
    yield engine
    engine.dispose()


def stored_text(engine: sa.Engine, table: str, key: str, value: Any) -> dict[str, Any]:
    """A row as SQLite holds it (no type conversion on the way out), without its id."""
    path = engine.url.database
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (value,)).fetchone())
    row.pop("id", None)
    row.pop(key)
    return row


def test_a_mention_written_raw_is_stored_exactly_as_sqlalchemy_stores_it(engine):
    with engine.begin() as conn:
        conn.execute(_insert_mentions("sqlite"), {**MENTION, "source_mention_id": "core"})
        [new_id] = insert_each(conn, _insert_mentions("sqlite"), [{**MENTION, "source_mention_id": "raw"}])
    assert stored_text(engine, "mention", "source_mention_id", "raw") == \
        stored_text(engine, "mention", "source_mention_id", "core")
    assert stored_text(engine, "mention", "source_mention_id", "raw")["published_at"] == "2026-11-20 10:00:07.000000"
    with engine.connect() as conn:
        assert conn.execute(sa.select(Mention.__table__.c.source_mention_id).where(
            Mention.__table__.c.id == new_id)).scalar_one() == "raw"


def test_a_conflicting_mention_inserts_nothing_and_gets_no_id(engine):
    with engine.begin() as conn:
        ids = insert_each(conn, _insert_mentions("sqlite"), [
            {**MENTION, "source_mention_id": "a"}, {**MENTION, "source_mention_id": "a"},
            {**MENTION, "source_mention_id": "b"}])
        count = conn.execute(sa.select(sa.func.count()).select_from(Mention.__table__)).scalar_one()
    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    assert count == 2


def test_outbox_jobs_written_raw_match_sqlalchemy_and_bump_the_generation_on_conflict(engine):
    job = {"kind": "slack.card", "mention_id": 1, "payload": {"a": [1]}, **fresh_job(WHOLE_SECOND)}
    with engine.begin() as conn:
        conn.execute(outbox_sync_statement("sqlite"), [{**job, "key": "core"}])
        insert_rows(conn, outbox_sync_statement("sqlite"), [{**job, "key": "raw"}])
    assert stored_text(engine, "outbox", "key", "raw") == stored_text(engine, "outbox", "key", "core")
    with engine.begin() as conn:
        conn.execute(sa.update(OutboxJob.__table__).values(done=True, attempts=3))
        insert_rows(conn, outbox_sync_statement("sqlite"), [{**job, "key": "raw"}])
    raw = stored_text(engine, "outbox", "key", "raw")
    assert (raw["generation"], raw["done"], raw["attempts"]) == (2, 0, 0)


def test_receipts_round_trip_through_the_raw_select(engine):
    answer = {"mentions": [{"id": 4, "duplicate": False}]}
    with engine.begin() as conn:
        insert_rows(conn, sa.insert(IngestReceipt.__table__), [
            {"webhook_id": "msg_1", "received_at": WHOLE_SECOND, "response": answer},
            {"webhook_id": "msg_2", "received_at": WHOLE_SECOND, "response": {"mentions": []}}])
        found = dict(select_rows(conn, _earlier_answers_statement("sqlite"), {"ids": ["msg_1", "msg_9"]}))
    assert found == {"msg_1": answer}


def test_a_second_receipt_for_one_delivery_is_sqlalchemys_integrity_error(engine):
    """The batcher tells "another process stored this delivery id" by SQLAlchemy's IntegrityError."""
    receipt = {"webhook_id": "msg_1", "received_at": WHOLE_SECOND, "response": {}}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        insert_rows(conn, sa.insert(IngestReceipt.__table__), [receipt, receipt])


def test_a_select_with_an_expanding_in_is_refused():
    table = Mention.__table__
    with pytest.raises(ValueError, match="json_each"):
        RawSelect(sa.select(table.c.id).where(table.c.id.in_(sa.bindparam("ids", expanding=True))), ["ids"])


"""The raw-SQL insert gives a column left out of a row its Python-side default, as SQLAlchemy's execute does."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.raw_sql import insert_rows

METADATA = sa.MetaData()
JOBS = sa.Table("jobs", METADATA, sa.Column("id", sa.Integer, primary_key=True), sa.Column("key", sa.String(20)),
                sa.Column("failures", sa.Integer, nullable=False, default=0),
                sa.Column("payload", sa.JSON, nullable=False, default=dict))
INSERT = sa.insert(JOBS)


def test_left_out_columns_get_their_defaults_on_the_raw_path_too(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'raw.db'}")
    METADATA.create_all(engine)
    with engine.begin() as conn:
        insert_rows(conn, INSERT, [{"key": "raw-1"}, {"key": "raw-2"}])  # straight to the driver
        conn.execute(INSERT, [{"key": "sqlalchemy"}])  # SQLAlchemy's own execute, for comparison
        rows = conn.execute(sa.select(JOBS.c.key, JOBS.c.failures, JOBS.c.payload).order_by(JOBS.c.id)).all()
    assert [tuple(r) for r in rows] == [("raw-1", 0, {}), ("raw-2", 0, {}), ("sqlalchemy", 0, {})]

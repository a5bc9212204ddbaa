"""crisis_id indexes cover only the rows linked to a crisis

Almost every mention and audit row has no crisis; indexing their NULLs cost every ingest a write to
two more index pages for no lookup (queries ask for `crisis_id = ?`, which a partial index serves).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLES = ('mention', 'audit')
LINKED = sa.text('crisis_id IS NOT NULL')


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_crisis_id', table_name=table)
        op.create_index(f'ix_{table}_crisis_id', table, ['crisis_id'], unique=False,
                        sqlite_where=LINKED, postgresql_where=LINKED)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_crisis_id', table_name=table)
        op.create_index(f'ix_{table}_crisis_id', table, ['crisis_id'], unique=False)

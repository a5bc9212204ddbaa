"""grouping keys kept in lookup order: the primary key is (key, at, mention_id), the lookup's own order

Each new mention writes about 21 grouping keys. With the primary key (key, mention_id), an index (key, at) for the
lookup and one (at) for forgetting old keys, every key was written into four B-trees on SQLite (the table's rowid
tree too) and three on PostgreSQL. Keyed by (key, at, mention_id), and on SQLite stored in that order (WITHOUT
ROWID), the lookup reads the primary key itself and each key is written twice. The keys are copied over.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _recreate(clustered=True)


def downgrade() -> None:
    _recreate(clustered=False)


def _recreate(*, clustered: bool) -> None:
    """The table anew, keys copied: keyed in lookup order (clustered), or as 0009 made it."""
    op.rename_table('grouping_key', 'grouping_key_old')
    op.drop_index('ix_grouping_key_old', table_name='grouping_key_old')
    if clustered:
        op.drop_index('ix_grouping_key_at', table_name='grouping_key_old')
    op.create_table('grouping_key',
                    sa.Column('key', sa.String(length=120), nullable=False),
                    sa.Column('mention_id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint(*(('key', 'at', 'mention_id') if clustered else ('key', 'mention_id'))),
                    sqlite_with_rowid=not clustered)
    op.execute('INSERT INTO grouping_key (key, mention_id, at) SELECT key, mention_id, at FROM grouping_key_old')
    op.drop_table('grouping_key_old')
    op.create_index('ix_grouping_key_old', 'grouping_key', ['at'], unique=False)
    if not clustered:
        op.create_index('ix_grouping_key_at', 'grouping_key', ['key', 'at'], unique=False)

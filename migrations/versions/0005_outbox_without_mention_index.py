"""outbox jobs are not indexed by mention

No query looks outbound jobs up by mention; the index only cost every ingested mention one more
index write.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 15:40:00.000000
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_outbox_mention_id', table_name='outbox')


def downgrade() -> None:
    op.create_index('ix_outbox_mention_id', 'outbox', ['mention_id'], unique=False)

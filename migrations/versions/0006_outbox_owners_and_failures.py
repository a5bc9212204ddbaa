"""outbox jobs are held by a live relay, and a job can fail for good

A leased job names the relay process that holds it (`lease_owner`) instead of a time its lease runs
out (`lease_until`): it is free the moment that process is gone. Unexpected errors are counted
(`failures`), and a job given up on is marked `failed_at` (not done, not due) until it is asked for again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OWNED = sa.text('lease_owner IS NOT NULL')


def upgrade() -> None:
    op.add_column('outbox', sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
    op.add_column('outbox', sa.Column('lease_owner', sa.String(length=32), nullable=True))
    op.add_column('outbox', sa.Column('failed_at', sa.DateTime(), nullable=True))
    op.create_index('ix_outbox_lease_owner', 'outbox', ['lease_owner'], unique=False,
                    sqlite_where=OWNED, postgresql_where=OWNED)
    op.drop_column('outbox', 'lease_until')  # SQLite 3.35+ drops a plain column in place


def downgrade() -> None:
    op.add_column('outbox', sa.Column('lease_until', sa.DateTime(), nullable=True))
    op.drop_index('ix_outbox_lease_owner', table_name='outbox')
    op.drop_column('outbox', 'failed_at')
    op.drop_column('outbox', 'lease_owner')
    op.drop_column('outbox', 'failures')

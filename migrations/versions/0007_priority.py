"""mentions carry a priority, and the outbox runs the most urgent jobs first

A mention's score (0–100), level (P1–P3) and the reasons for it are computed when it is stored. Each
outbox job has a `priority` (0: what people just did; 1–3: the card of a P1–P3 mention), and relays
lease by priority before due time, through an index in that order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('mention', sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
    op.add_column('mention', sa.Column('priority_level', sa.String(length=2), server_default='P3', nullable=False))
    op.add_column('mention', sa.Column('priority_reasons', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('outbox', sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.create_index('ix_outbox_next', 'outbox', ['done', 'priority', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_next', table_name='outbox')
    op.create_index('ix_outbox_due', 'outbox', ['done', 'due_at'], unique=False)
    op.drop_column('outbox', 'priority')
    op.drop_column('mention', 'priority_reasons')
    op.drop_column('mention', 'priority_level')
    op.drop_column('mention', 'priority')

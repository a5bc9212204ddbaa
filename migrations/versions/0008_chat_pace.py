"""channels' posting slots, shared by every process on one database

Each post takes its channel's next free slot (`next_at`, unix seconds) in one statement, so several processes
together keep a platform's pace per channel instead of each keeping it alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_pace',
                    sa.Column('key', sa.String(length=300), nullable=False),
                    sa.Column('next_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('key'))


def downgrade() -> None:
    op.drop_table('chat_pace')

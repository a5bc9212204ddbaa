"""spike alerts: each alert a topic's volume spike sent, and mentions found by when they arrived

Spike checks count the mentions received in a few short windows (now and the same time of week before), so
`mention.received_at` is indexed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('spike_alert',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('topic', sa.String(length=200), nullable=False),
                    sa.Column('alerted_at', sa.DateTime(), nullable=False),
                    sa.Column('count', sa.Integer(), nullable=False),
                    sa.Column('usual', sa.Float(), nullable=False),
                    sa.Column('window_minutes', sa.Float(), nullable=False),
                    sa.Column('samples', sa.JSON(), nullable=False),
                    sa.Column('playbook', sa.String(length=200), nullable=True),
                    sa.Column('ended_at', sa.DateTime(), nullable=True),
                    sa.Column('decision', sa.String(length=20), nullable=True),
                    sa.Column('decided_by', sa.String(length=200), nullable=True),
                    sa.Column('decided_by_name', sa.String(length=200), nullable=True),
                    sa.Column('decided_at', sa.DateTime(), nullable=True),
                    sa.Column('crisis_id', sa.Integer(), nullable=True),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_mention_received_at', 'mention', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mention_received_at', table_name='mention')
    op.drop_table('spike_alert')

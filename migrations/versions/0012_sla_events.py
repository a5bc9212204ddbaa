"""sla events: what happened to each mention's SLA clock (reminders sent, first response, resolution), once each

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_event',
                    sa.Column('mention_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=30), nullable=False),
                    sa.Column('draft_id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('mention_id', 'kind', 'draft_id'))


def downgrade() -> None:
    op.drop_table('sla_event')

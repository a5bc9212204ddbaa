"""storm groups and digests: mentions about one thing share a storm card; in a backlog, P3 goes to a digest

Each new mention's grouping keys (the post it points to, MinHash band keys of its text) are kept for the
group window in `grouping_key`, its MinHash signature on the mention; a mention in a group names its `storm`.
A mention listed in a digest instead of a card of its own names the digest's minute (`digest_at`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('storm',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('state', sa.String(length=30), nullable=False),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.Column('last_member_at', sa.DateTime(), nullable=False),
                    sa.Column('members', sa.Integer(), nullable=False),
                    sa.Column('claimed_by', sa.String(length=200), nullable=True),
                    sa.Column('claimed_by_name', sa.String(length=200), nullable=True),
                    sa.Column('answer', sa.Text(), nullable=True),
                    sa.Column('shown_at', sa.DateTime(), nullable=True),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_table('grouping_key',
                    sa.Column('key', sa.String(length=120), nullable=False),
                    sa.Column('mention_id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('key', 'mention_id'))
    op.create_index('ix_grouping_key_at', 'grouping_key', ['key', 'at'], unique=False)
    op.create_index('ix_grouping_key_old', 'grouping_key', ['at'], unique=False)
    op.add_column('mention', sa.Column('storm_id', sa.Integer(), nullable=True))
    op.add_column('mention', sa.Column('signature', sa.LargeBinary(), nullable=True))
    op.create_index('ix_mention_storm', 'mention', ['storm_id'], unique=False,
                    sqlite_where=sa.text('storm_id IS NOT NULL'), postgresql_where=sa.text('storm_id IS NOT NULL'))
    op.add_column('mention', sa.Column('digest_at', sa.DateTime(), nullable=True))
    op.create_index('ix_mention_digest', 'mention', ['digest_at'], unique=False,
                    sqlite_where=sa.text('digest_at IS NOT NULL'), postgresql_where=sa.text('digest_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_mention_digest', table_name='mention')
    op.drop_column('mention', 'digest_at')
    op.drop_index('ix_mention_storm', table_name='mention')
    op.drop_column('mention', 'signature')
    op.drop_column('mention', 'storm_id')
    op.drop_index('ix_grouping_key_old', table_name='grouping_key')
    op.drop_index('ix_grouping_key_at', table_name='grouping_key')
    op.drop_table('grouping_key')
    op.drop_table('storm')

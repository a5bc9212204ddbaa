"""chat channels learned on install

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:49:36.622403
"""

from alembic import op
import sqlalchemy as sa



revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('chat_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('workspace', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=300), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('service_url', sa.String(length=2000), nullable=False),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('learned_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'workspace', 'channel', name='uq_chat_channel')
    )



def downgrade() -> None:

    op.drop_table('chat_channel')


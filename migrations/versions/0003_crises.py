"""crises, their steps, and crisis links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:30:24.665795
"""

from alembic import op
import sqlalchemy as sa



revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crisis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playbook', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('playbook_path', sa.String(length=2000), nullable=False),
    sa.Column('playbook_text', sa.Text(), nullable=False),
    sa.Column('drill', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('started_by_name', sa.String(length=200), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('ended_by', sa.String(length=200), nullable=True),
    sa.Column('ended_by_name', sa.String(length=200), nullable=True),
    sa.Column('forced_reason', sa.Text(), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('crisis_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crisis_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('by_name', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['crisis_id'], ['crisis.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('crisis_id', 'step_id', name='uq_crisis_step')
    )
    with op.batch_alter_table('crisis_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crisis_step_crisis_id'), ['crisis_id'], unique=False)

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_crisis_id'), ['crisis_id'], unique=False)

    with op.batch_alter_table('chatmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_chatmessage_crisis_id'), ['crisis_id'], unique=False)

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('crisis_linked_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mention_crisis_id'), ['crisis_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_crisis_id'))
        batch_op.drop_column('crisis_linked_at')
        batch_op.drop_column('crisis_id')

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('crisis_id')

    with op.batch_alter_table('chatmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chatmessage_crisis_id'))
        batch_op.drop_column('crisis_id')

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_crisis_id'))
        batch_op.drop_column('crisis_id')

    with op.batch_alter_table('crisis_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crisis_step_crisis_id'))

    op.drop_table('crisis_step')
    op.drop_table('crisis')

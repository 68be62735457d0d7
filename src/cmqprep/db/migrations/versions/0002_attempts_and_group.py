"""quiz and exam attempts; study-group members

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attempts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('areas', sa.Text(), nullable=False),
    sa.Column('started_ms', sa.Integer(), nullable=False),
    sa.Column('limit_ms', sa.Integer(), nullable=True),
    sa.Column('clock_runs', sa.Boolean(), nullable=False),
    sa.Column('spent_ms', sa.Integer(), nullable=False),
    sa.Column('resumed_ms', sa.Integer(), nullable=False),
    sa.Column('current', sa.Integer(), nullable=False),
    sa.Column('submitted_ms', sa.Integer(), nullable=True),
    sa.Column('auto_submitted', sa.Boolean(), nullable=False),
    sa.Column('retake_of', sa.String(length=32), nullable=True),
    sa.Column('correct', sa.Integer(), nullable=True),
    sa.Column('scored', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_attempts_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_profile_started', ['profile_id', 'started_ms'], unique=False)

    op.create_table('attempt_questions',
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('scored', sa.Boolean(), nullable=False),
    sa.Column('option_order', sa.Text(), nullable=False),
    sa.Column('chosen', sa.Integer(), nullable=True),
    sa.Column('answered_ms', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('marked', sa.Boolean(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.Column('review_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_attempt_questions_attempt_id_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_attempt_questions_item_id_items')),
    sa.PrimaryKeyConstraint('attempt_id', 'position', name=op.f('pk_attempt_questions'))
    )
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_questions_item', ['item_id'], unique=False)

    op.create_table('group_members',
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('exported_ms', sa.Integer(), nullable=False),
    sa.Column('added_ms', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_group_members'))
    )


def downgrade() -> None:
    op.drop_table('group_members')
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_questions_item')
    op.drop_table('attempt_questions')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_profile_started')
    op.drop_table('attempts')

"""initial schema

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('packs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('license', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('installed_ms', sa.Integer(), nullable=False),
    sa.Column('exam_name', sa.Text(), nullable=False),
    sa.Column('exam_scored', sa.Integer(), nullable=False),
    sa.Column('exam_unscored', sa.Integer(), nullable=False),
    sa.Column('exam_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packs')),
    sa.UniqueConstraint('key', name=op.f('uq_packs_key'))
    )
    op.create_table('profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.Column('created_ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('member_id', name=op.f('uq_profiles_member_id')),
    sa.UniqueConstraint('name', name=op.f('uq_profiles_name'))
    )
    op.create_table('settings',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('profile_id', 'key', name=op.f('pk_settings'))
    )
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_areas_pack_id_packs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('pack_id', 'code', name=op.f('uq_areas_pack_id'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('checked', sa.String(length=10), nullable=False),
    sa.Column('content_hash', sa.String(length=20), nullable=False),
    sa.Column('answer_hash', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('edited_ms', sa.Integer(), nullable=True),
    sa.Column('reset_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_items_pack_id_packs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('pack_id', 'key', name=op.f('uq_items_pack_id'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_new', ['retired', 'area', 'position'], unique=False)
        batch_op.create_index('ix_items_order', ['retired', 'position'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('pack_key', sa.String(length=64), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('reviewed_ms', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('state_before', sa.Integer(), nullable=False),
    sa.Column('chosen', sa.Integer(), nullable=True),
    sa.Column('correct', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_reviews_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_item', ['profile_id', 'pack_key', 'item_key', 'reviewed_ms'], unique=False)
        batch_op.create_index('ix_reviews_profile_time', ['profile_id', 'reviewed_ms'], unique=False)

    op.create_table('schedule',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('stability', sa.Float(), nullable=True),
    sa.Column('difficulty', sa.Float(), nullable=True),
    sa.Column('due_ms', sa.Integer(), nullable=True),
    sa.Column('last_review_ms', sa.Integer(), nullable=True),
    sa.Column('reps', sa.Integer(), nullable=False),
    sa.Column('lapses', sa.Integer(), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('buried_until_ms', sa.Integer(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_schedule_item_id_items')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_schedule_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', 'item_id', name=op.f('pk_schedule'))
    )
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_area_due', ['profile_id', 'area', 'suspended', 'state', 'due_ms'], unique=False)
        batch_op.create_index('ix_schedule_due', ['profile_id', 'suspended', 'state', 'due_ms'], unique=False)

    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_topics_area_id_areas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topics')),
    sa.UniqueConstraint('area_id', 'code', name=op.f('uq_topics_area_id'))
    )


def downgrade() -> None:
    op.drop_table('topics')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_due')
        batch_op.drop_index('ix_schedule_area_due')

    op.drop_table('schedule')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_profile_time')
        batch_op.drop_index('ix_reviews_item')

    op.drop_table('reviews')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_order')
        batch_op.drop_index('ix_items_new')

    op.drop_table('items')
    op.drop_table('areas')
    op.drop_table('settings')
    op.drop_table('profiles')
    op.drop_table('packs')

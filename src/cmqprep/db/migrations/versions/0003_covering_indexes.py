"""covering indexes for the study queue and the due counts

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# (table, index, old columns, new columns)
CHANGES = [
    ('schedule', 'ix_schedule_due', ['profile_id', 'suspended', 'state', 'due_ms'],
     ['profile_id', 'suspended', 'state', 'due_ms', 'item_id', 'step']),
    ('schedule', 'ix_schedule_area_due', ['profile_id', 'area', 'suspended', 'state', 'due_ms'],
     ['profile_id', 'area', 'suspended', 'state', 'due_ms', 'item_id', 'step']),
]


def upgrade() -> None:
    for table, name, _old, new in CHANGES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, new, unique=False)


def downgrade() -> None:
    for table, name, old, _new in CHANGES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, old, unique=False)

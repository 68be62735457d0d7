"""derived tables that keep the home counts and the statistics fast at 100k items / 1M reviews

Revision ID: 0004
Revises: 0003

Two independent parts, each owned by one piece of work: the home-screen counters and the
statistics cache. Everything added here is derived from other tables and can be rebuilt.
"""

from alembic import op  # noqa: F401  (used by the parts below)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _upgrade_counters() -> None:
    """Home-screen counters (per area: live items, started items)."""


def _downgrade_counters() -> None:
    pass


def _upgrade_stats() -> None:
    """Statistics: stored predictions and aggregates for the report."""


def _downgrade_stats() -> None:
    pass


def upgrade() -> None:
    _upgrade_counters()
    _upgrade_stats()


def downgrade() -> None:
    _downgrade_stats()
    _downgrade_counters()

"""Home-screen counters kept exact by SQLite triggers: live items per area, and schedule rows
(all, and those still in state new) per profile and area.

Counting 99k item index entries and 79k schedule entries on every home-screen paint costs
10-15 ms at 100k items; reading these rows costs microseconds. The triggers fire on every write
path (study, quizzes, imports, rebuilds, doctor, pack install and purge) without those services
knowing about them. Schedule rows of retired items are still counted here: they are few, and
the home screen subtracts them with primary-key probes (their due dates change with time
anyway, so due counts cannot be counters).

Triggers exist only on SQLite; other databases get the tables from the migration but the home
counts fall back to the counting queries there (services/stats.py), so nothing reads stale
counters. Everything here is plain SQL text, shared by migration 0004 and `doctor --repair`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ITEMS_TABLE = "area_item_counts"
SCHEDULE_TABLE = "area_schedule_counts"

# Items: an item counts at its area while retired = 0.
_ADD_ITEM = (f"INSERT INTO {ITEMS_TABLE} (area, live) SELECT NEW.area, 1 WHERE NEW.retired = 0 "
             f"ON CONFLICT (area) DO UPDATE SET live = live + 1;")
_DROP_ITEM = f"UPDATE {ITEMS_TABLE} SET live = live - 1 WHERE area = OLD.area AND OLD.retired = 0;"

# Schedule rows: a row counts at (profile_id, area); rows_new when state = 0 (new).
_ADD_ROW = (f"INSERT INTO {SCHEDULE_TABLE} (profile_id, area, rows_total, rows_new) "
            f"SELECT NEW.profile_id, NEW.area, 1, NEW.state = 0 WHERE 1 "
            f"ON CONFLICT (profile_id, area) DO UPDATE SET rows_total = rows_total + 1, "
            f"rows_new = rows_new + excluded.rows_new;")
_DROP_ROW = (f"UPDATE {SCHEDULE_TABLE} SET rows_total = rows_total - 1, "
             f"rows_new = rows_new - (OLD.state = 0) "
             f"WHERE profile_id = OLD.profile_id AND area = OLD.area;")

TRIGGERS: dict[str, str] = {
    "trg_counts_items_insert": f"AFTER INSERT ON items BEGIN {_ADD_ITEM} END",
    "trg_counts_items_delete": f"AFTER DELETE ON items BEGIN {_DROP_ITEM} END",
    # Only when liveness or area changes: pack updates rewrite many columns of many items.
    "trg_counts_items_update": ("AFTER UPDATE OF area, retired ON items WHEN OLD.retired IS NOT "
                                "NEW.retired OR OLD.area IS NOT NEW.area "
                                f"BEGIN {_DROP_ITEM} {_ADD_ITEM} END"),
    "trg_counts_schedule_insert": f"AFTER INSERT ON schedule BEGIN {_ADD_ROW} END",
    "trg_counts_schedule_delete": f"AFTER DELETE ON schedule BEGIN {_DROP_ROW} END",
    # Every answer updates its schedule row; the WHEN keeps that path to one comparison.
    "trg_counts_schedule_update": (
        "AFTER UPDATE OF profile_id, area, state ON schedule WHEN OLD.profile_id IS NOT "
        "NEW.profile_id OR OLD.area IS NOT NEW.area OR (OLD.state = 0) IS NOT (NEW.state = 0) "
        f"BEGIN {_DROP_ROW} {_ADD_ROW} END"),
}


def create_trigger_sql() -> list[str]:
    return [f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in TRIGGERS.items()]


def drop_trigger_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


# Recounts, in portable SQL (CASE rather than boolean arithmetic; `retired` compared with the
# literal the dialect stores, passed in as a parameter).
RECOUNT_ITEMS = "SELECT area, count(*) FROM items WHERE retired = :no GROUP BY area"
RECOUNT_SCHEDULE = ("SELECT profile_id, area, count(*), "
                    "sum(CASE WHEN state = 0 THEN 1 ELSE 0 END) FROM schedule "
                    "GROUP BY profile_id, area")
STORED_ITEMS = f"SELECT area, live FROM {ITEMS_TABLE}"
STORED_SCHEDULE = f"SELECT profile_id, area, rows_total, rows_new FROM {SCHEDULE_TABLE}"

Run = Callable[[str, dict[str, Any]], Iterable[tuple]]
"""Runs one SQL text with named parameters and returns its rows (a session or a connection)."""


def recount(run: Run) -> tuple[dict[str, int], dict[tuple[int, str], tuple[int, int]]]:
    """What the counters should hold, counted from the tables."""
    items = {area: n for area, n in run(RECOUNT_ITEMS, {"no": False})}
    sched = {(pid, area): (n, new or 0) for pid, area, n, new in run(RECOUNT_SCHEDULE, {})}
    return items, sched


def stored(run: Run) -> tuple[dict[str, int], dict[tuple[int, str], tuple[int, int]]]:
    """What the counters hold; zero rows (left by deletes) read as absent."""
    items = {area: n for area, n in run(STORED_ITEMS, {}) if n}
    sched = {(pid, area): (n, new) for pid, area, n, new in run(STORED_SCHEDULE, {})
             if n or new}
    return items, sched


def differences(run: Run) -> list[str]:
    """Counters that differ from a recount, in words (empty when they agree)."""
    want_items, want_sched = recount(run)
    have_items, have_sched = stored(run)
    out = []
    for area in sorted(set(want_items) | set(have_items)):
        if want_items.get(area, 0) != have_items.get(area, 0):
            out.append(f"area {area}: {have_items.get(area, 0)} live items counted, "
                       f"{want_items.get(area, 0)} exist")
    for key in sorted(set(want_sched) | set(have_sched)):
        if want_sched.get(key, (0, 0)) != have_sched.get(key, (0, 0)):
            pid, area = key
            out.append(f"profile {pid}, area {area}: schedule rows counted "
                       f"{have_sched.get(key, (0, 0))}, exist {want_sched.get(key, (0, 0))}")
    return out


def refill_sql() -> list[tuple[str, dict[str, Any]]]:
    """Statements that recompute both counter tables from scratch (inside one transaction)."""
    return [
        (f"DELETE FROM {ITEMS_TABLE}", {}),
        (f"INSERT INTO {ITEMS_TABLE} (area, live) {RECOUNT_ITEMS}", {"no": False}),
        (f"DELETE FROM {SCHEDULE_TABLE}", {}),
        (f"INSERT INTO {SCHEDULE_TABLE} (profile_id, area, rows_total, rows_new) "
         f"{RECOUNT_SCHEDULE}", {}),
    ]

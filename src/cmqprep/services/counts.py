"""Home-screen counts on SQLite from the trigger-kept counters, through a plain DBAPI connection
(no SQLAlchemy import: the launch path paints the home screen with these before the engine
exists)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from cmqprep.config import Settings
from cmqprep.domain.scheduling import day_start, next_day_start, to_ms


@dataclass
class AreaCounts:
    code: str
    title: str
    items: int = 0
    seen: int = 0
    due: int = 0
    new: int = 0
    weight: int = 0  # scored questions in the blueprint


@dataclass
class HomeCounts:
    profile: str
    reviews_total: int | None  # None when not asked for (the home screen does not show it)
    reviews_today: int
    due_now: int
    new_available: int
    new_today: int
    areas: list[AreaCounts] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...


def exam_day(settings: Settings) -> date | None:
    """The exam date as a date, or None when unset (or unreadable: validation refuses it)."""
    try:
        return date.fromisoformat(settings.exam_date) if settings.exam_date else None
    except ValueError:
        return None


# Each statement runs on an index (tests/test_performance_guards.py checks the plans):
AREAS = ("SELECT a.code, a.title, a.scored FROM areas a JOIN packs p ON p.id = a.pack_id "
         "ORDER BY p.installed_ms, p.id, a.position")
LIVE_ITEMS = "SELECT area, live FROM area_item_counts WHERE live <> 0"
SCHEDULE_ROWS = ("SELECT area, rows_total, rows_new FROM area_schedule_counts "
                 "WHERE profile_id = ?")
DUE = ("SELECT count(*) FROM schedule WHERE profile_id = ? AND area = ? AND suspended = 0 "
       "AND state IN (1, 2, 3) AND due_ms < ?")
# Retired items' schedule rows are in the counters and the due ranges; they are few, so they
# are found from the items side (ix_items_order) and probed by primary key, then subtracted.
# CROSS JOIN keeps SQLite from walking the schedule table instead.
RETIRED = ("SELECT s.area, count(*), sum(s.state = 0), "
           "sum(s.suspended = 0 AND s.state <> 0 AND s.due_ms < ?) "
           "FROM items i CROSS JOIN schedule s "
           "WHERE i.retired = 1 AND s.profile_id = ? AND s.item_id = i.id GROUP BY s.area")
REVIEWS_TODAY = "SELECT count(*) FROM reviews WHERE profile_id = ? AND reviewed_ms >= ?"
# The WHERE repeats ix_reviews_new_study's own, literally, so SQLite uses that partial index.
NEW_TODAY = ("SELECT count(*) FROM reviews WHERE profile_id = ? AND reviewed_ms >= ? "
             "AND source = 'study' AND state_before = 0")
# Reviews in the whole log: a table count when no other profile has any (a b-tree page walk,
# several times faster than counting a million-entry index range).
OTHER_PROFILES = ("SELECT EXISTS (SELECT 1 FROM reviews WHERE profile_id < ?) "
                  "OR EXISTS (SELECT 1 FROM reviews WHERE profile_id > ?)")
ALL_REVIEWS = "SELECT count(*) FROM reviews"
PROFILE_REVIEWS = "SELECT count(*) FROM reviews WHERE profile_id = ?"


def sqlite_home_counts(cur: Cursor, profile_id: int, profile_name: str, settings: Settings,
                       now: datetime, with_total: bool = True) -> HomeCounts:
    """The home-screen counts of one profile, read inside the caller's transaction."""
    tz = settings.tz()
    start = to_ms(day_start(now, tz, settings.day_start_hour))
    end = to_ms(next_day_start(now, tz, settings.day_start_hour))

    def one(sql: str, *params: object) -> int:
        return cur.execute(sql, params).fetchone()[0] or 0

    per_area: dict[str, AreaCounts] = {}
    for code, title, scored in cur.execute(AREAS).fetchall():
        per_area.setdefault(code, AreaCounts(code, title, weight=scored))
    live = dict(cur.execute(LIVE_ITEMS).fetchall())
    for code in sorted(set(live) - set(per_area)):  # live items no blueprint lists: kept visible
        per_area[code] = AreaCounts(code, code)
    started, unseen_rows = {}, {}
    for code, total, new_rows in cur.execute(SCHEDULE_ROWS, (profile_id,)).fetchall():
        started[code], unseen_rows[code] = total, new_rows
    due = {code: one(DUE, profile_id, code, end) for code in per_area}
    for code, rows, new_rows, due_rows in cur.execute(RETIRED, (end, profile_id)).fetchall():
        started[code] = started.get(code, 0) - rows
        unseen_rows[code] = unseen_rows.get(code, 0) - (new_rows or 0)
        due[code] = due.get(code, 0) - (due_rows or 0)
    for code, c in per_area.items():
        c.items = live.get(code, 0)
        c.seen = started.get(code, 0) - unseen_rows.get(code, 0)
        c.due = due.get(code, 0)
        c.new = max(0, c.items - started.get(code, 0))
    new_today = one(NEW_TODAY, profile_id, start)
    reviews_today = one(REVIEWS_TODAY, profile_id, start)
    total = None
    if with_total:
        total = (one(PROFILE_REVIEWS, profile_id) if one(OTHER_PROFILES, profile_id, profile_id)
                 else one(ALL_REVIEWS))
    return summarize(profile_name, settings, per_area, new_today, reviews_today, total)


def summarize(profile_name: str, settings: Settings, per_area: dict[str, AreaCounts],
              new_today: int, reviews_today: int, reviews_total: int | None) -> HomeCounts:
    unseen = sum(c.new for c in per_area.values())
    new_left = max(0, settings.new_per_day - new_today)
    due_now = sum(c.due for c in per_area.values())
    return HomeCounts(profile_name, reviews_total, reviews_today, due_now, min(unseen, new_left),
                      new_today, list(per_area.values()))



"""Counts for the home screen and `cmqprep stats`: due, new and seen, overall and per area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, Select, and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import AreaRow, ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import (
    LEARNING,
    NEW,
    RELEARNING,
    REVIEW,
    day_start,
    next_day_start,
    to_ms,
)
from cmqprep.services.counts import AreaCounts, HomeCounts, sqlite_home_counts, summarize


def areas(engine: Engine) -> list[tuple[str, str, int]]:
    """BoK areas of the installed packs (code, title, scored), in blueprint order.

    Areas with the same code in several packs are one area (the first pack's title wins)."""
    with read_session(engine) as s:
        return areas_in(s)


def areas_in(s: Session) -> list[tuple[str, str, int]]:
    rows = s.execute(select(AreaRow.code, AreaRow.title, AreaRow.scored)
                     .join(PackRow, PackRow.id == AreaRow.pack_id)
                     .order_by(PackRow.installed_ms, PackRow.id, AreaRow.position)).all()
    seen: dict[str, tuple[str, str, int]] = {}
    for code, title, scored in rows:
        seen.setdefault(code, (code, title, scored))
    return list(seen.values())


# The query shapes below are chosen for banks of 100k items and logs of 1M reviews (see
# docs/performance.md): counts run on covering indexes, one range per area, and never join
# the wide items table row by row. Retired items are few, so their schedule rows are counted
# separately and subtracted instead of checking every schedule row against its item.
S = ScheduleRow


def _per_area(s: Session, q: Select, codes: list[str]) -> dict[str, int]:
    """Run a count with `area = :a` once per area (an index range each, no GROUP BY sort)."""
    out = {}
    for code in codes:
        n = s.scalar(q, {"a": code}) or 0
        if n:
            out[code] = n
    return out


def home_counts(engine: Engine, profile_id: int, profile_name: str, settings: Settings,
                now: datetime, with_total: bool = True) -> HomeCounts:
    """Per-area items, seen, due and new, and today's numbers. On SQLite from the counters the
    triggers keep (services/counts.py); elsewhere by counting (there are no triggers there)."""
    if engine.dialect.name == "sqlite":
        from cmqprep.db.prepared import transaction

        with transaction(engine) as cur:
            return sqlite_home_counts(cur.raw, profile_id, profile_name, settings, now,
                                      with_total)
    return counted_home_counts(engine, profile_id, profile_name, settings, now, with_total)


def counted_home_counts(engine: Engine, profile_id: int, profile_name: str, settings: Settings,
                        now: datetime, with_total: bool = True) -> HomeCounts:
    """home_counts by counting index ranges, for databases without the counter triggers (and as
    the reference the counters are tested against)."""
    tz = settings.tz()
    start = to_ms(day_start(now, tz, settings.day_start_hour))
    end = to_ms(next_day_start(now, tz, settings.day_start_hour))
    a = bindparam("a")
    with read_session(engine) as s:
        known = areas_in(s)
        per_area = {code: AreaCounts(code, title, weight=scored) for code, title, scored in known}
        # Areas of live items that no blueprint lists (should not happen; kept visible). Found
        # by seeking from one distinct area to the next in ix_items_new: a few index seeks.
        codes = [c for c, _, _ in known]
        nxt = select(func.min(ItemRow.area)).where(ItemRow.retired.is_(False),
                                                    ItemRow.area > bindparam("after"))
        area = s.scalar(select(func.min(ItemRow.area)).where(ItemRow.retired.is_(False)))
        while area is not None:
            if area not in per_area:
                codes.append(area)
            area = s.scalar(nxt, {"after": area})
        items = _per_area(s, select(func.count()).select_from(ItemRow).where(
            ItemRow.retired.is_(False), ItemRow.area == a), codes)
        mine = and_(S.profile_id == profile_id, S.area == a)
        started = _per_area(s, select(func.count()).select_from(S).where(mine), codes)
        unseen_rows = _per_area(s, select(func.count()).select_from(S).where(
            mine, S.suspended.in_([False, True]), S.state == NEW), codes)
        due = {}
        for code in codes:
            n = s.scalar(select(func.count()).select_from(S).where(
                mine, S.suspended.is_(False), S.state.in_([LEARNING, REVIEW, RELEARNING]),
                S.due_ms < end), {"a": code})
            if n:
                due[code] = n
        # Retired items' schedule rows, subtracted from the counts above. Driven from the
        # items side with primary-key probes: a join lets SQLite walk every schedule row.
        probe = lambda col: (select(col).where(S.profile_id == profile_id,  # noqa: E731
                                               S.item_id == ItemRow.id).scalar_subquery())
        due_flag = case((and_(S.suspended.is_(False), S.state != NEW, S.due_ms < end), 1),
                        else_=0)
        for area, state, is_due in s.execute(select(probe(S.area), probe(S.state),
                                                     probe(due_flag))
                                              .where(ItemRow.retired.is_(True))):
            if area is None:
                continue  # never studied
            started[area] = started.get(area, 0) - 1
            if state == NEW:
                unseen_rows[area] = unseen_rows.get(area, 0) - 1
            due[area] = due.get(area, 0) - (is_due or 0)
        new_today = s.scalar(select(func.count()).select_from(ReviewRow).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= start,
            ReviewRow.source == "study", ReviewRow.state_before == NEW)) or 0
        reviews_today = s.scalar(select(func.count()).select_from(ReviewRow).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= start)) or 0
        reviews_total = _reviews_total(s, profile_id) if with_total else None
    for code in codes:
        c = per_area.setdefault(code, AreaCounts(code, code))
        c.items = items.get(code, 0)
        c.seen = started.get(code, 0) - unseen_rows.get(code, 0)
        c.due = due.get(code, 0)
        c.new = max(0, c.items - started.get(code, 0))
    return summarize(profile_name, settings, per_area, new_today, reviews_today, reviews_total)


def _reviews_total(s: Session, profile_id: int) -> int:
    """Reviews in this profile's log. When no other profile has any, a plain table count is
    used: databases answer it from the table's size (SQLite: a b-tree page walk), several
    times faster than counting an index range of a million entries."""
    # Two index seeks; "!=" would walk the whole index.
    others = [s.scalar(select(ReviewRow.profile_id).where(cond).limit(1))
              for cond in (ReviewRow.profile_id < profile_id, ReviewRow.profile_id > profile_id)]
    if others == [None, None]:
        return s.scalar(select(func.count()).select_from(ReviewRow)) or 0
    return s.scalar(select(func.count()).select_from(ReviewRow).where(
        ReviewRow.profile_id == profile_id)) or 0

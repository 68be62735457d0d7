"""`cmqprep doctor`: check the database (integrity, orphaned rows, schedule against the review
log), say what to do, and repair what can be rebuilt from the log."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from cmqprep.db.engine import HEAD, current_revision, read_session, write_session
from cmqprep.db.models import ItemRow, PackRow, ProfileRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import NEW, Grade, SchedState, SchedulerConfig, replay
from cmqprep.services.schedule_store import state_of, write_state_for
from cmqprep.services.settings_cache import scheduler_configs

OK, NOTE, WARNING, ERROR = "ok", "note", "warning", "error"
RESTORE = ("restore a recent backup: 'cmqprep backup list', then "
           "'cmqprep backup restore NAME' (the damaged file is kept as a backup first)")
REPAIR = "run 'cmqprep doctor --repair' to rebuild the schedules from the review log"

# Orphaned rows: (what, SQL counting them, whether --repair deletes them).
ORPHANS = (
    ("schedule rows of items that do not exist",
     "SELECT count(*) FROM schedule WHERE item_id NOT IN (SELECT id FROM items)", True),
    ("schedule rows of profiles that do not exist",
     "SELECT count(*) FROM schedule WHERE profile_id NOT IN (SELECT id FROM profiles)", True),
    ("reviews of profiles that do not exist (kept: the log is history)",
     "SELECT count(*) FROM reviews WHERE profile_id NOT IN (SELECT id FROM profiles)", False),
    ("attempts of profiles that do not exist",
     "SELECT count(*) FROM attempts WHERE profile_id NOT IN (SELECT id FROM profiles)", True),
    ("attempt questions of attempts that do not exist",
     "SELECT count(*) FROM attempt_questions WHERE attempt_id NOT IN (SELECT id FROM attempts)",
     True),
    ("attempt questions of items that do not exist",
     "SELECT count(*) FROM attempt_questions WHERE item_id NOT IN (SELECT id FROM items)", False),
    ("settings of profiles that do not exist",
     "SELECT count(*) FROM settings WHERE profile_id <> 0 "
     "AND profile_id NOT IN (SELECT id FROM profiles)", True),
    ("items of packs that do not exist",
     "SELECT count(*) FROM items WHERE pack_id NOT IN (SELECT id FROM packs)", False),
)
_DELETE_ORPHANS = (
    "DELETE FROM schedule WHERE item_id NOT IN (SELECT id FROM items)",
    "DELETE FROM schedule WHERE profile_id NOT IN (SELECT id FROM profiles)",
    "DELETE FROM attempt_questions WHERE attempt_id IN "
    "(SELECT id FROM attempts WHERE profile_id NOT IN (SELECT id FROM profiles))",
    "DELETE FROM attempts WHERE profile_id NOT IN (SELECT id FROM profiles)",
    "DELETE FROM attempt_questions WHERE attempt_id NOT IN (SELECT id FROM attempts)",
    "DELETE FROM settings WHERE profile_id <> 0 AND profile_id NOT IN (SELECT id FROM profiles)",
)


@dataclass
class Check:
    name: str
    status: str = OK
    details: list[str] = field(default_factory=list)
    advice: str = ""


@dataclass
class Report:
    target: str
    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(c.status in (OK, NOTE) for c in self.checks)

    def advice(self) -> list[str]:
        out: list[str] = []
        for c in self.checks:
            if c.status in (WARNING, ERROR) and c.advice and c.advice not in out:
                out.append(c.advice)
        return out


@dataclass(frozen=True)
class Mismatch:
    profile_id: int
    item_id: int
    label: str  # "pack/item"
    fields: tuple[str, ...]  # which fields differ ("missing row", "extra row" for whole rows)
    expected: SchedState | None  # None: the row should not exist


def file_check(path: Path) -> Check:
    """PRAGMA integrity_check on the raw file, before anything else touches it."""
    check = Check("integrity", advice=RESTORE)
    if not path.exists():
        check.status, check.advice = NOTE, ""
        check.details.append(f"{path} does not exist yet (it is created on first use)")
        return check
    try:
        con = sqlite3.connect(str(path), timeout=10)
        try:
            rows = [r[0] for r in con.execute("PRAGMA integrity_check(50)")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        check.status = ERROR
        check.details.append(f"{path} cannot be read as a database: {exc}")
        return check
    if rows != ["ok"]:
        check.status = ERROR
        check.details.extend(rows[:10])
    return check


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _differs(stored: SchedState, expected: SchedState) -> tuple[str, ...]:
    out = []
    for f in fields(SchedState):
        a, b = getattr(stored, f.name), getattr(expected, f.name)
        same = _close(a, b) if f.name in ("stability", "difficulty") else a == b
        if not same:
            out.append(f.name)
    return tuple(out)


def schedule_mismatches(s: Session) -> list[Mismatch]:
    """Rebuild every profile's schedule in memory from the review log (as schedule_store.rebuild
    does: reviews before an item's reset are skipped) and compare it with the stored rows."""
    items = {(pk, ik): (iid, reset) for iid, pk, ik, reset in s.execute(
        select(ItemRow.id, PackRow.key, ItemRow.key, ItemRow.reset_ms)
        .join(PackRow, PackRow.id == ItemRow.pack_id))}
    labels = {iid: f"{pk}/{ik}" for (pk, ik), (iid, _) in items.items()}
    profiles = set(s.scalars(select(ProfileRow.id)))
    cfgs = scheduler_configs(s)
    logs: dict[tuple[int, int], list[tuple[int, Grade]]] = defaultdict(list)
    for pid, pk, ik, at, rating in s.execute(
            select(ReviewRow.profile_id, ReviewRow.pack_key, ReviewRow.item_key,
                   ReviewRow.reviewed_ms, ReviewRow.rating)
            .order_by(ReviewRow.reviewed_ms, ReviewRow.id)):
        found = items.get((pk, ik))
        if found is None or pid not in profiles:
            continue  # reviews of items not installed here, or orphans reported elsewhere
        iid, reset = found
        if reset is None or at >= reset:
            logs[(pid, iid)].append((at, Grade(rating)))
    rows = {(r.profile_id, r.item_id): r for r in s.scalars(select(ScheduleRow))}
    out = []
    for key in sorted(set(logs) | set(rows)):
        pid, iid = key
        if pid not in profiles or iid not in labels:
            continue  # orphaned rows are reported by the orphan check
        row = rows.get(key)
        log = logs.get(key)
        if log:
            expected: SchedState | None = replay(log, cfgs.get(pid, SchedulerConfig()))
        elif row is not None and (row.suspended or row.flagged):
            expected = SchedState(NEW)  # kept only to remember the suspension or flag
        else:
            expected = None
        if row is None:
            if expected is not None:
                out.append(Mismatch(pid, iid, labels[iid], ("missing row",), expected))
        elif expected is None:
            out.append(Mismatch(pid, iid, labels[iid], ("extra row",), None))
        else:
            diff = _differs(state_of(row), expected)
            if diff:
                out.append(Mismatch(pid, iid, labels[iid], diff, expected))
    return out


def diagnose(engine: Engine, path: Path | None, backups: Path | None, now: datetime) -> Report:
    """Every check, on a database that opened; nothing is changed."""
    report = Report(str(path) if path else str(engine.url))
    if path is not None:
        report.checks.append(integrity := file_check(path))
        if integrity.status == ERROR:
            return report  # the rest would read garbage; restoring is the way out
    rev = current_revision(engine)
    schema = Check("schema")
    if rev != HEAD:
        schema.status = NOTE
        schema.details.append(
            "no cmqprep tables yet (they are made the first time cmqprep opens it)" if rev is None
            else f"schema revision {rev}; cmqprep upgrades it to {HEAD} (after a backup) the "
                 f"next time it opens the database")
        report.checks.append(schema)
        return report
    report.checks.append(schema)
    with read_session(engine) as s:
        if engine.dialect.name == "sqlite":
            fk = Check("foreign keys", advice=REPAIR)
            bad = s.execute(text("PRAGMA foreign_key_check")).all()
            if bad:
                fk.status = WARNING
                per_table: dict[str, int] = defaultdict(int)
                for row in bad:
                    per_table[row[0]] += 1
                fk.details.extend(f"{n} row(s) of {t} point at missing rows"
                                  for t, n in sorted(per_table.items()))
            report.checks.append(fk)
        orphans = Check("orphaned rows", advice=REPAIR)
        for what, sql, _fixable in ORPHANS:
            n = s.execute(text(sql)).scalar() or 0
            if n:
                orphans.status = WARNING
                orphans.details.append(f"{n} {what}")
        report.checks.append(orphans)
        report.checks.append(_schedule_check(s))
        if engine.dialect.name == "sqlite":
            report.checks.append(_counters_check(s))
    if backups is not None and path is not None:
        report.checks.append(_backup_check(backups, now))
    return report


def _schedule_check(s: Session) -> Check:
    check = Check("schedule vs review log", advice=REPAIR)
    names = dict(s.execute(select(ProfileRow.id, ProfileRow.name)).all())
    mismatches = schedule_mismatches(s)
    due_only = [m for m in mismatches if m.fields == ("due_ms",)]
    real = [m for m in mismatches if m.fields != ("due_ms",)]
    if real:
        check.status = WARNING
        check.details.append(f"{len(real)} schedule row(s) differ from what the review log gives")
        for m in real[:10]:
            check.details.append(f"profile {names.get(m.profile_id, m.profile_id)}: {m.label}: "
                                 f"{', '.join(m.fields)}")
    if due_only:
        if check.status == OK:
            check.status = NOTE
        check.details.append(f"{len(due_only)} due date(s) were computed with an earlier desired "
                             f"retention; '--repair' recomputes them")
    return check


def _counters_check(s: Session) -> Check:
    """The home-screen counters (db/counters.py) against a recount, and their triggers."""
    from cmqprep.db import counters

    check = Check("home-screen counters",
                  advice="run 'cmqprep doctor --repair' to recount the home-screen counters")
    have = set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    missing = sorted(set(counters.TRIGGERS) - have)
    if missing:
        check.details.append(f"missing trigger(s): {', '.join(missing)}")
    check.details.extend(counters.differences(lambda sql, p: s.execute(text(sql), p).all())[:10])
    if check.details:
        check.status = WARNING
    return check


def _backup_check(backups: Path, now: datetime) -> Check:
    from cmqprep.services.backups import list_backups

    check = Check("backups", status=NOTE)
    found = list_backups(backups)
    if not found:
        check.details.append(f"no backups yet in {backups} (one is made each day cmqprep is "
                             f"opened; make one now with 'cmqprep backup create')")
    else:
        newest = found[-1]
        days = (now - newest.taken).total_seconds() / 86400
        check.details.append(f"{len(found)} backup(s); newest {newest.name} "
                             f"({max(days, 0):.1f} days old)")
    return check


@dataclass
class RepairResult:
    orphans_deleted: int
    schedules_fixed: int


def repair(engine: Engine) -> RepairResult:
    """Delete orphaned derived rows and rebuild every schedule row that differs from the log,
    in one transaction (all of it, or nothing). The review log itself is never changed."""
    with write_session(engine) as s:
        deleted = 0
        for sql in _DELETE_ORPHANS:
            deleted += s.execute(text(sql)).rowcount or 0
        fixed = 0
        areas = dict(s.execute(select(ItemRow.id, ItemRow.area)).all())
        for m in schedule_mismatches(s):
            row = s.get(ScheduleRow, (m.profile_id, m.item_id))
            if m.expected is None:
                s.execute(delete(ScheduleRow).where(ScheduleRow.profile_id == m.profile_id,
                                                    ScheduleRow.item_id == m.item_id))
            else:
                write_state_for(s, m.profile_id, m.item_id, areas[m.item_id], m.expected, row)
            fixed += 1
        if engine.dialect.name == "sqlite":
            _recount(s)
    return RepairResult(deleted, fixed)


def _recount(s: Session) -> None:
    """Recreate the counter triggers and recompute the counters (cheap: two GROUP BYs)."""
    from cmqprep.db import counters

    for sql in counters.drop_trigger_sql() + counters.create_trigger_sql():
        s.execute(text(sql))
    for sql, params in counters.refill_sql():
        s.execute(text(sql), params)

"""Design guards for speed at scale (not timed): query plans use the intended indexes, also after
ANALYZE on skewed data, and the launch path imports only what the home screen needs."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event

from cmqprep.db.engine import sqlite_path
from cmqprep.services import study_queries as sq
from cmqprep.services.study import StudySession


def skew(ctx, n: int = 3000) -> Path:
    """Make the database lopsided: thousands of items in one area, almost all seen by profile 1
    with few due, a handful retired, a second profile with a tiny history; then ANALYZE."""
    path = sqlite_path(ctx.url)
    con = sqlite3.connect(path)
    now = int(ctx.clock().timestamp() * 1000)
    rng = random.Random(3)
    with con:
        pack = con.execute("SELECT id FROM packs").fetchone()[0]
        con.execute("INSERT INTO profiles (name, member_id, created_ms) VALUES ('other', 'ab', 0)")
        start = con.execute("SELECT max(id) FROM items").fetchone()[0] + 1
        con.executemany(
            "INSERT INTO items (id, pack_id, key, kind, area, topic, level, prompt, options, answer, "
            "explanation, reference, tags, checked, content_hash, answer_hash, position, retired) "
            "VALUES (?, ?, ?, 'term', 'I', 'I.A', '', 'p', '[]', -1, 'e', '', '[]', '', 'h', 'h', ?, ?)",
            [(start + i, pack, f"k{i}", 100 + i, i % 100 == 0) for i in range(n)])
        con.executemany(
            "INSERT INTO schedule (profile_id, item_id, area, state, step, stability, difficulty, "
            "due_ms, last_review_ms, reps, lapses, suspended, flagged) "
            "VALUES (?, ?, 'I', 2, NULL, 30.0, 5.0, ?, ?, 4, 0, 0, 0)",
            [(ctx.profile_id, start + i, now + (-1 if i % 60 == 0 else 1) * rng.randint(1, 9**8),
              now - 10**8) for i in range(n - 50)])
        con.executemany(
            "INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, rating, "
            "duration_ms, source, state_before) VALUES (?, ?, 'mini', ?, ?, 3, 1000, 'study', 2)",
            [(f"{i:032x}", ctx.profile_id, f"k{i % n}", now - i * 60_000) for i in range(20_000)])
        con.execute("ANALYZE")
    con.close()
    return path


def plans(path: Path, statements: list[tuple[str, object]]) -> list[tuple[str, list[str]]]:
    con = sqlite3.connect(path)
    try:
        return [(sql, [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, params)])
                for sql, params in statements]
    finally:
        con.close()


BIG = ("items", "schedule", "reviews")  # the tables that grow to 100k and 1M rows


def full_scans(plan: list[str]) -> list[str]:
    # "SCAN t USING COVERING INDEX" for a bare count(*) is a page walk, not a row scan; the
    # packs and areas tables hold a few rows.
    return [p for p in plan if p.startswith("SCAN") and "COVERING INDEX" not in p
            and p.split()[1] in BIG]


@pytest.mark.parametrize("analyzed", [False, True])
def test_next_card_queries_use_the_queue_indexes(ctx, analyzed: bool) -> None:
    path = skew(ctx) if analyzed else sqlite_path(ctx.url)
    sql = sq.for_dialect(ctx.engine.dialect)
    now = int(ctx.clock().timestamp() * 1000)
    for (kind, by_area), p in sql.candidates.items():
        args = p.args({"pid": ctx.profile_id, "area": "I", "before": now, "from_pos": -1})
        (_, plan), = plans(path, [(p.sql, args)])
        text = " | ".join(plan)
        assert not full_scans(plan), (kind, by_area, text)
        if kind == "new":
            assert ("ix_items_new" if by_area else "ix_items_order") in text, text
            assert "sqlite_autoindex_schedule_1 (profile_id=? AND item_id=?)" in text, text
        else:
            index = "ix_schedule_area_due" if by_area else "ix_schedule_due"
            assert f"COVERING INDEX {index} (profile_id=?" in text, text
            assert "items USING INTEGER PRIMARY KEY" in text, text  # the retired check
    (_, plan), = plans(path, [(sql.card.sql, sql.card.args({"iid": 1}))])
    assert "INTEGER PRIMARY KEY" in plan[0]


class RecordingCursor:
    """A DBAPI cursor that keeps every SELECT it runs (the counters path runs on raw cursors)."""

    def __init__(self, raw, seen: list) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.seen = raw, seen

    def execute(self, sql, params=()):  # type: ignore[no-untyped-def]
        self.seen.append((sql, params))
        return self.raw.execute(sql, params)


@pytest.mark.parametrize("analyzed", [False, True])
def test_home_counts_from_the_counters_use_indexes(ctx, analyzed: bool) -> None:
    """The SQLite home counts (services/counts.py): counter rows, then one covering range per
    area for the due counts, primary-key probes for retired items, and today's reviews from
    their index (first studies from the partial index)."""
    from cmqprep.services.counts import sqlite_home_counts

    path = skew(ctx) if analyzed else sqlite_path(ctx.url)
    seen: list[tuple[str, object]] = []
    con = sqlite3.connect(path)
    try:
        counts = sqlite_home_counts(RecordingCursor(con, seen), ctx.profile_id, "default",
                                    ctx.settings, ctx.clock())
    finally:
        con.close()
    assert counts.areas and counts.reviews_total is not None
    checked = set()
    for statement, plan in plans(path, seen):
        text = " | ".join(plan)
        assert not full_scans(plan), (statement, text)
        # The counter tables hold a row per area (and profile): scanning them is fine.
        if "FROM schedule WHERE" in statement:
            assert "COVERING INDEX ix_schedule_area_due (profile_id=? AND area=?" in text, text
            checked.add("due")
        if "CROSS JOIN schedule" in statement:
            assert "COVERING INDEX ix_items_" in text and "(retired=?)" in text, text
            assert "sqlite_autoindex_schedule_1 (profile_id=? AND item_id=?)" in text, text
            checked.add("retired")
        if "state_before = 0" in statement:
            assert "ix_reviews_new_study" in text, text
            checked.add("new today")
        elif "reviewed_ms >= ?" in statement:
            assert "COVERING INDEX ix_reviews_profile_time (profile_id=? AND reviewed_ms>?)" \
                in text, text
            checked.add("reviews today")
    assert checked == {"due", "retired", "new today", "reviews today"}


@pytest.mark.parametrize("analyzed", [False, True])
def test_counted_home_counts_queries_use_indexes(ctx, analyzed: bool) -> None:
    """The counting path (databases without the counter triggers)."""
    from cmqprep.services.stats import counted_home_counts

    path = skew(ctx) if analyzed else sqlite_path(ctx.url)
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        counts = counted_home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings,
                                     ctx.clock())
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    assert counts.areas and len(seen) > 5
    for statement, plan in plans(path, seen):
        text = " | ".join(plan)
        assert not full_scans(plan), (statement, text)
        if "FROM schedule" in statement and "count(*)" in statement:
            assert "COVERING INDEX ix_schedule_area_due (profile_id=? AND area=?" in text, text
        if "FROM items" in statement and "items.area = ?" in statement:
            assert "COVERING INDEX ix_items_new (retired=? AND area=?)" in text, text
        if "retired IS 1" in statement:  # retired corrections probe schedule by primary key
            assert "sqlite_autoindex_schedule_1 (profile_id=? AND item_id=?)" in text, text


def test_the_study_session_caches_stay_true_across_undo_and_day_rollover(ctx) -> None:
    """The per-run caches (today's counts, the new-card cursor) give the same cards as a fresh
    session would."""
    from tests.conftest import with_settings

    with_settings(ctx, new_per_day=2)
    sess = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    first = sess.next_card()
    sess.rate(first, 3, 10) if first.kind == "term" else sess.answer_choice(first, first.answer, 10)
    sess.undo()
    again = sess.next_card()
    assert again.item_id == first.item_id  # undo made it new again: the cursor moved back
    for _ in range(2):
        c = sess.next_card()
        ctx.clock.advance(minutes=30)
        sess.rate(c, 3, 10) if c.kind == "term" else sess.answer_choice(c, c.answer, 10)
        ctx.clock.advance(minutes=30)
    fresh = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, random.Random(1))
    assert (sess.next_card() is None) == (fresh.next_card() is None)
    ctx.clock.advance(days=1)  # a new study day: two more new cards allowed
    ctx.settings = replace(ctx.settings)
    assert sess.next_card() is not None


LAUNCH_CHILD = r"""
import json, sys
import cmqprep.cli as cli
import cmqprep.ui.screens.home as home
import textual.app

_mount = home.HomeScreen.on_mount
def on_mount(self):
    _mount(self)
    fast = not self.ctx.engine_ready  # painted from the launch path's sqlite3 reader
    self.call_after_refresh(lambda: (print(json.dumps(sorted(sys.modules) + ["FAST"] * fast)),
                                     self.app.exit()))
home.HomeScreen.on_mount = on_mount
# What runs after the first paint (engine, readiness) is left out: the snapshot is the paint's.
home.HomeScreen._after_paint = lambda self, *a: None
_run = textual.app.App.run
textual.app.App.run = lambda self, **kw: _run(self, headless=True, **kw)
sys.exit(cli.main(["--data-dir", sys.argv[1]]))
"""

# Needed only once the learner acts (study, packs, quizzes, imports) or never at run time.
NOT_AT_LAUNCH = ("sqlalchemy", "cmqprep.db.engine", "cmqprep.db.models", "fsrs", "alembic", "hypothesis", "pytest", "cmqprep.packs.gift",
                 "cmqprep.packs.aiken", "cmqprep.packs.csvfmt", "cmqprep.services.study", "cmqprep.services.exam", "cmqprep.services.progress",
                 "cmqprep.ui.screens.study")


def _loaded(code: str, *args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(loaded: set[str]) -> set[str]:
    return {m for m in loaded for bad in NOT_AT_LAUNCH if m == bad or m.startswith(bad + ".")}


def test_building_the_parser_imports_no_heavy_module() -> None:
    loaded = _loaded("import sys, json, cmqprep.cli; cmqprep.cli.build_parser(); "
                     "print(json.dumps(sorted(sys.modules)))")
    assert not _heavy(loaded)
    assert not {"textual", "sqlalchemy", "tomllib", "platformdirs"} & loaded


def test_the_home_screen_paints_without_modules_it_does_not_use(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # first run: creates and migrates the database and installs the bundled bank
    first = subprocess.run([sys.executable, "-m", "cmqprep", "--data-dir", str(data), "stats"],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    loaded = _loaded(LAUNCH_CHILD, str(data))
    assert "cmqprep.ui.screens.home" in loaded and "FAST" in loaded  # it did run, fast path
    assert not _heavy(loaded)


def test_the_full_path_still_opens_what_the_fast_path_cannot(tmp_path: Path) -> None:
    """First run ever (no database): the launch path declines and the full path creates,
    migrates and installs; the home screen then paints from the engine."""
    loaded = _loaded(LAUNCH_CHILD, str(tmp_path / "fresh"))
    assert "cmqprep.ui.screens.home" in loaded and "FAST" not in loaded
    assert "sqlalchemy" in loaded


@pytest.mark.parametrize("analyzed", [False, True])
def test_readiness_reads_quiz_evidence_through_its_partial_index(ctx, analyzed: bool) -> None:
    """The 90-day quiz evidence must not visit every review of those days (1M-review logs)."""
    from cmqprep.services import readiness

    path = skew(ctx) if analyzed else sqlite_path(ctx.url)
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM reviews" in statement and "quiz" in statement:
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        readiness._reports.clear()
        readiness.area_report(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock())
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    assert len(seen) == 1
    [(_sql, plan)] = plans(path, seen)
    assert any("INDEX ix_reviews_quiz (profile_id=? AND reviewed_ms>?" in p
               for p in plan), plan

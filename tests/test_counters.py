"""The home-screen counters (migration 0004, kept by SQLite triggers) always equal a recount,
whatever mix of installs, study, suspensions, retirements, purges, progress imports, rebuilds
and repairs wrote to the database; and home counts read from them equal counting queries."""

from __future__ import annotations

import random
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cmqprep.config import Settings
from cmqprep.db import counters
from cmqprep.db.engine import HEAD, default_url, write_session
from cmqprep.packs.native import load_pack
from cmqprep.services.context import AppContext, open_context
from cmqprep.services.stats import counted_home_counts, home_counts
from tests.conftest import SMALL_MANIFEST, START, FakeClock, question, term, write_pack

FIXTURE = Path(__file__).parent / "fixtures" / "schema-0001.sqlite3"


def stored_and_recounted(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return counters.differences(lambda sql, p: conn.execute(text(sql), p).all())


def assert_counts_agree(ctx: AppContext) -> None:
    assert stored_and_recounted(ctx.engine) == []
    with ctx.engine.connect() as conn:
        profiles = conn.execute(text("SELECT id, name FROM profiles")).all()
    for pid, name in profiles:
        fast = home_counts(ctx.engine, pid, name, ctx.settings, ctx.clock())
        slow = counted_home_counts(ctx.engine, pid, name, ctx.settings, ctx.clock())
        assert fast == slow


# Pack variants: each moves items between areas, retires, restores, edits keys (a reset) and
# adds items, so every install exercises the item triggers in a different way.
VARIANTS = [
    [question("q1"), question("q2", key="B"), question("q3", "II.A", key="C"), term("t1"),
     term("t2", "I.A")],
    [question("q1", key="B"), question("q3", "I.A", key="C"), question("q4", "II.A"),
     term("t1", "I.A"), term("t2", "I.A")],
    [question("q2", key="B"), question("q3", "II.A", key="D"), question("q4"), term("t1"),
     term("t3")],
]


def install_variant(ctx: AppContext, root: Path, n: int, version: int) -> None:
    from cmqprep.services.packs import install_pack

    manifest = SMALL_MANIFEST.replace('version = "1.0.0"', f'version = "1.{version}.0"')
    pack = write_pack(root / f"v{version}", "\n".join(VARIANTS[n]), manifest)
    install_pack(ctx.engine, load_pack(pack), int(ctx.clock().timestamp() * 1000),
                 allow_older=True)


def study(ctx: AppContext, pid: int, cards: int, grade: int) -> None:
    from cmqprep.services.study import StudySession

    s = Settings(timezone="UTC", new_per_day=50)
    sess = StudySession(ctx.engine, pid, s, ctx.clock, random.Random(cards))
    for _ in range(cards):
        card = sess.next_card()
        if card is None:
            return
        if card.kind == "term":
            sess.rate(card, grade, 1000)
        else:
            sess.answer_choice(card, card.answer if grade > 1 else (card.answer + 1) % 4, 1000)
        ctx.clock.advance(minutes=3)


OPS = st.one_of(
    st.tuples(st.just("study"), st.integers(1, 6), st.integers(1, 4), st.integers(0, 1)),
    st.tuples(st.just("advance"), st.integers(1, 20)),
    st.tuples(st.just("suspend"), st.integers(0, 1)),
    st.tuples(st.just("install"), st.integers(0, 2)),
    st.tuples(st.just("purge")),
    st.tuples(st.just("remove")),
    st.tuples(st.just("import")),
    st.tuples(st.just("rebuild")),
    st.tuples(st.just("repair")),
    st.tuples(st.just("undo")),
)


def apply(op: tuple, ctx: AppContext, root: Path, state: dict) -> None:  # type: ignore[type-arg]
    from cmqprep.services import doctor, progress
    from cmqprep.services import pack_admin as packs
    from cmqprep.services.study import StudySession

    kind = op[0]
    pids = state["pids"]
    if kind == "study":
        study(ctx, pids[op[3]], op[1], op[2])
    elif kind == "advance":
        ctx.clock.advance(days=op[1])
    elif kind == "suspend":
        sess = StudySession(ctx.engine, pids[op[1]], ctx.settings, ctx.clock, random.Random(1))
        card = sess.next_card()
        if card is not None:
            sess.suspend(card)
    elif kind == "undo":
        sess = StudySession(ctx.engine, pids[0], ctx.settings, ctx.clock, random.Random(2))
        card = sess.next_card()
        if card is not None:
            sess.rate(card, 3, 500) if card.kind == "term" else sess.answer_choice(
                card, card.answer, 500)
            sess.undo()
    elif kind == "install":
        state["version"] += 1
        install_variant(ctx, root, op[1], state["version"])
    elif kind in ("purge", "remove"):
        try:
            packs.remove_pack(ctx.engine, "mini", purge=kind == "purge")
        except packs.PackNotInstalled:
            pass  # removed (or purged) already
    elif kind == "import":  # another computer's history (again: nothing new the second time)
        progress.import_progress(ctx.engine, pids[1], ctx.settings, state["export"], ctx.clock())
    elif kind == "rebuild":
        from sqlalchemy import select

        from cmqprep.db.models import ItemRow
        from cmqprep.services.schedule_store import rebuild
        from cmqprep.services.settings_cache import scheduler_configs

        with write_session(ctx.engine) as s:
            rebuild(s, s.scalars(select(ItemRow)).all(), scheduler_configs(s))
    elif kind == "repair":
        doctor.repair(ctx.engine)


@pytest.fixture
def template(ctx: AppContext, tmp_path: Path) -> tuple[Path, Path]:
    """ctx's migrated database with a second profile, closed, to copy per example; and a
    progress export of a history made on a copy of it (another computer)."""
    from cmqprep.services.profiles import create_profile
    from cmqprep.services.progress import export_progress

    create_profile(ctx.engine, "other", 0)
    ctx.engine.dispose()
    db = Path(str(ctx.engine.url.database))
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    shutil.copy(db, laptop / "cmqprep.sqlite")
    earlier = FakeClock(START - timedelta(days=10))  # exported before the examples' "now"
    other = open_context(laptop, default_url(laptop), "default", earlier, random.Random(5),
                         bank_dir=tmp_path / "no-bank")
    other.settings = Settings(timezone="UTC")
    study(other, other.profile_id, 5, 3)
    other.clock.advance(days=2)
    study(other, other.profile_id, 5, 2)
    export = tmp_path / "laptop.json"
    export_progress(other.engine, other.profile_id, other.settings, other.clock(), export)
    other.engine.dispose()
    return db, export


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(OPS, min_size=1, max_size=12))
def test_counters_equal_a_recount_after_any_mix_of_writes(template, tmp_path_factory,
                                                          mini_pack: Path, ops) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("ex")
    data = root / "data"
    data.mkdir()
    shutil.copy(template[0], data / "cmqprep.sqlite")
    clock = FakeClock()
    ctx = open_context(data, default_url(data), "default", clock, random.Random(1),
                       bank_dir=root / "no-bank")
    ctx.settings = Settings(timezone="UTC")
    try:
        with ctx.engine.connect() as conn:
            pids = [r[0] for r in conn.execute(text("SELECT id FROM profiles ORDER BY id"))]
        state = {"pids": pids, "version": 0, "export": template[1]}
        for op in ops:
            apply(op, ctx, root, state)
            assert_counts_agree(ctx)
    finally:
        ctx.engine.dispose()


def test_counters_start_filled_on_a_fresh_database(ctx: AppContext) -> None:
    with ctx.engine.connect() as conn:
        live = dict(conn.execute(text("SELECT area, live FROM area_item_counts")).all())
    assert live == {"I": 3, "II": 2}  # the mini pack: q1, q2, t2 in I; q3, t1 in II
    assert_counts_agree(ctx)


def test_upgrade_from_the_first_schema_backfills_the_counters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURE, data / "cmqprep.sqlite")
    con = sqlite3.connect(data / "cmqprep.sqlite")
    items = dict(con.execute("SELECT area, count(*) FROM items WHERE retired = 0 GROUP BY area"))
    rows = {(p, a): n for p, a, n in con.execute(
        "SELECT profile_id, area, count(*) FROM schedule GROUP BY profile_id, area")}
    con.close()
    assert items and rows  # the fixture has items and a studied schedule
    ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(1),
                       bank_dir=tmp_path / "no-bank")
    ctx.settings = Settings(timezone="UTC")
    try:
        with ctx.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            live = dict(conn.execute(text("SELECT area, live FROM area_item_counts")).all())
            sched = {(p, a): n for p, a, n in conn.execute(text(
                "SELECT profile_id, area, rows_total FROM area_schedule_counts"))}
        assert live == items and sched == rows
        assert_counts_agree(ctx)
        study(ctx, 1, 3, 3)  # and the triggers keep them from there
        assert_counts_agree(ctx)
    finally:
        ctx.engine.dispose()


def test_doctor_reports_and_repairs_counters_that_drifted(ctx: AppContext) -> None:
    from cmqprep.services import doctor

    study(ctx, ctx.profile_id, 3, 3)
    with write_session(ctx.engine) as s:  # what a lost trigger or a hand edit would leave
        s.execute(text("UPDATE area_item_counts SET live = live + 5 WHERE area = 'I'"))
        s.execute(text("DELETE FROM area_schedule_counts"))
    report = doctor.diagnose(ctx.engine, None, None, ctx.clock())
    check = next(c for c in report.checks if c.name == "home-screen counters")
    assert check.status == doctor.WARNING and any("area I" in d for d in check.details)
    doctor.repair(ctx.engine)
    assert stored_and_recounted(ctx.engine) == []
    report = doctor.diagnose(ctx.engine, None, None, ctx.clock())
    assert next(c for c in report.checks if c.name == "home-screen counters").status == doctor.OK


def test_repair_recreates_missing_triggers(ctx: AppContext) -> None:
    from cmqprep.services import doctor

    with write_session(ctx.engine) as s:
        s.execute(text("DROP TRIGGER trg_counts_schedule_insert"))
    report = doctor.diagnose(ctx.engine, None, None, ctx.clock())
    check = next(c for c in report.checks if c.name == "home-screen counters")
    assert check.status == doctor.WARNING and any("trigger" in d for d in check.details)
    doctor.repair(ctx.engine)
    study(ctx, ctx.profile_id, 2, 3)  # inserts schedule rows: counted again
    assert_counts_agree(ctx)

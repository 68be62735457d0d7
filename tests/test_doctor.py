"""`cmqprep doctor`: integrity, orphaned rows, schedule against the log, and `--repair`."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from cmqprep.cli import main
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import ItemRow, ScheduleRow
from cmqprep.domain.scheduling import Grade
from cmqprep.packs.native import load_pack
from cmqprep.services.doctor import ERROR, NOTE, OK, WARNING, diagnose, repair
from cmqprep.services.packs import install_pack
from cmqprep.services.profiles import save_settings
from cmqprep.services.schedule_store import rebuild
from cmqprep.services.settings_cache import scheduler_configs
from cmqprep.services.study import StudySession
from tests.conftest import question, term, write_pack


def study(ctx, n: int, grades: tuple[int, ...] = (3,)) -> StudySession:
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    for k in range(n):
        card = session.next_card()
        assert card is not None
        grade = grades[k % len(grades)]
        if card.kind == "question":
            pos = card.answer if grade > 1 else (card.answer + 1) % len(card.options)
            session.answer_choice(card, pos, 1000)
            if grade in (2, 4):
                session.regrade(Grade(grade))
        else:
            session.rate(card, Grade(grade), 1000)
        ctx.clock.advance(minutes=3)
    return session


def db_file(ctx) -> Path:
    return Path(ctx.engine.url.database)


def raw(ctx, *sql: str) -> None:
    """Edit the file behind cmqprep's back, foreign keys off (as another tool might)."""
    con = sqlite3.connect(db_file(ctx))
    con.execute("PRAGMA foreign_keys=OFF")
    for statement in sql:
        con.execute(statement)
    con.commit()
    con.close()


def check(ctx, name: str):  # type: ignore[no-untyped-def]
    report = diagnose(ctx.engine, db_file(ctx), ctx.data_dir / "backups", ctx.clock())
    return next(c for c in report.checks if c.name == name), report


def schedule_rows(ctx) -> list[tuple]:
    with read_session(ctx.engine) as s:
        return [(r.profile_id, r.item_id, r.state, r.step, r.stability, r.difficulty, r.due_ms,
                 r.last_review_ms, r.reps, r.lapses, r.suspended)
                for r in s.scalars(select(ScheduleRow).order_by(ScheduleRow.item_id))]


def test_a_studied_database_is_healthy_including_undo_regrade_suspend_and_reset(
        ctx, tmp_path: Path, capsys, monkeypatch) -> None:
    session = study(ctx, 5, grades=(3, 1, 4))
    ctx.clock.advance(days=2)
    session = study(ctx, 4, grades=(1, 3))
    session.undo()
    card = session.next_card()
    session.suspend(card)
    # a new pack version changes q1's key: its schedule restarts, history kept
    items = "\n".join([question("q1", key="B"), question("q2", key="B"),
                       question("q3", "II.A", key="C"), term("t1"), term("t2", "I.A")])
    install_pack(ctx.engine, load_pack(write_pack(tmp_path / "v2", items, _v2())), 10**13)
    report = diagnose(ctx.engine, db_file(ctx), ctx.data_dir / "backups", ctx.clock())
    assert report.healthy, [(c.name, c.details) for c in report.checks]
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    assert main(["doctor"]) == 0
    assert "No problems found." in capsys.readouterr().out


def _v2() -> str:
    from tests.conftest import SMALL_MANIFEST

    return SMALL_MANIFEST.replace('version = "1.0.0"', 'version = "1.1.0"')


def test_tampered_schedule_rows_are_reported_and_repair_rebuilds_them_from_the_log(
        ctx, capsys, monkeypatch) -> None:
    study(ctx, 5, grades=(3, 1))
    with read_session(ctx.engine) as s:
        ids = list(s.scalars(select(ScheduleRow.item_id).order_by(ScheduleRow.item_id)))
        spare = s.scalar(select(ItemRow.id).where(ItemRow.id.not_in(ids)))
    truth = schedule_rows(ctx)
    raw(ctx, f"UPDATE schedule SET stability = stability * 2, reps = 9 WHERE item_id = {ids[0]}",
        f"DELETE FROM schedule WHERE item_id = {ids[1]}")
    if spare is None:  # every item was studied; make an "extra" row by dropping its reviews
        pytest.fail("the mini pack has more items than were studied")
    raw(ctx, f"INSERT INTO schedule (profile_id, item_id, area, state, reps, lapses, suspended, "
             f"flagged, due_ms) VALUES ({ctx.profile_id}, {spare}, 'I', 2, 3, 0, 0, 0, 1)")
    found, report = check(ctx, "schedule vs review log")
    assert found.status == WARNING and not report.healthy
    text = "\n".join(found.details)
    assert "3 schedule row(s) differ" in text
    assert "stability, reps" in text and "missing row" in text and "extra row" in text

    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "WARNING  schedule vs review log" in out and "cmqprep doctor --repair" in out
    assert main(["doctor", "--repair"]) == 0
    assert "rebuilt 3 schedule row(s)" in capsys.readouterr().out
    assert schedule_rows(ctx) == truth
    # and it agrees with the rebuild the pack installer uses
    with write_session(ctx.engine) as s:
        rebuild(s, s.scalars(select(ItemRow)).all(), scheduler_configs(s))
    assert schedule_rows(ctx) == truth


def test_orphaned_rows_are_reported_and_derived_ones_repaired_but_history_kept(ctx) -> None:
    study(ctx, 2)
    raw(ctx,
        f"INSERT INTO schedule (profile_id, item_id, area, state, reps, lapses, suspended, "
        f"flagged) VALUES ({ctx.profile_id}, 9999, 'I', 0, 0, 0, 0, 0)",
        "INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, rating, "
        "duration_ms, source, state_before) VALUES ('ab', 42, 'mini', 'q1', 1, 3, 0, 'study', 0)",
        "INSERT INTO attempts (id, profile_id, kind, mode, title, areas, started_ms, clock_runs, "
        "spent_ms, resumed_ms, current, auto_submitted) VALUES "
        "('att', 42, 'quiz', 'study', '', '[]', 1, 1, 0, 1, 0, 0)",
        "INSERT INTO attempt_questions (attempt_id, position, item_id, area, scored, "
        "option_order, duration_ms, marked) VALUES ('att', 0, 1, 'I', 1, '[0,1,2,3]', 0, 0)",
        "INSERT INTO settings (profile_id, key, value) VALUES (42, 'new_per_day', '5')")
    orphans, _ = check(ctx, "orphaned rows")
    fks, _ = check(ctx, "foreign keys")
    assert orphans.status == WARNING and fks.status == WARNING
    assert set(orphans.details) == {
        "1 schedule rows of items that do not exist",
        "1 reviews of profiles that do not exist (kept: the log is history)",
        "1 attempts of profiles that do not exist",
        "1 settings of profiles that do not exist"}
    done = repair(ctx.engine)
    assert done.orphans_deleted == 4  # schedule row, attempt question, attempt, setting
    orphans, report = check(ctx, "orphaned rows")
    assert orphans.details == ["1 reviews of profiles that do not exist (kept: the log is history)"]
    con = sqlite3.connect(db_file(ctx))
    assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 3
    con.close()


def test_a_changed_desired_retention_is_a_note_not_a_problem(ctx) -> None:
    study(ctx, 4, grades=(4,))  # Easy: straight to review, with a retention-based interval
    save_settings(ctx.engine, ctx.profile_id, replace(ctx.settings, desired_retention=0.8))
    found, report = check(ctx, "schedule vs review log")
    assert found.status == NOTE and report.healthy
    assert "earlier desired retention" in found.details[0]
    assert repair(ctx.engine).schedules_fixed == 4
    assert check(ctx, "schedule vs review log")[0].status == OK


def test_a_damaged_file_is_an_error_that_points_at_backups_and_is_not_touched(
        ctx, monkeypatch, capsys) -> None:
    study(ctx, 2)
    ctx.engine.dispose()
    path = db_file(ctx)
    with open(path, "r+b") as f:
        f.seek(4096 * 2)
        f.write(b"\xff" * 4096 * 3)  # clobber b-tree pages
    damaged = path.read_bytes()
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    capsys.readouterr()
    assert main(["doctor"]) == 1
    assert main(["doctor", "--repair"]) == 1  # nothing to rebuild from: restore instead
    captured = capsys.readouterr()
    assert "ERROR    integrity" in captured.out and "cmqprep backup restore" in captured.out
    assert "Traceback" not in captured.err
    assert path.read_bytes() == damaged
    found = diagnose(ctx.engine, path, None, ctx.clock()).checks[0]
    assert found.status == ERROR

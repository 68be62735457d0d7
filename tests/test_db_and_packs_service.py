"""Database set-up and pack installation: migrations, pragmas, one-transaction installs, updates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cmqprep.db.engine import HEAD, backup_sqlite, read_session
from cmqprep.db.models import ItemRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import NEW, to_ms
from cmqprep.packs.native import load_pack
from cmqprep.services import pack_admin
from cmqprep.services import packs as packs_service
from cmqprep.services.packs import OlderVersionError, install_pack
from cmqprep.services.study import StudySession
from tests.conftest import SMALL_MANIFEST, question, term, write_pack


def test_head_constant_matches_the_alembic_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import cmqprep.db.engine as engine_module

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(engine_module.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


def test_database_is_migrated_with_wal_and_foreign_keys(ctx) -> None:
    with ctx.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        indexes = {r[1] for r in conn.execute(text("PRAGMA index_list('schedule')"))}
    assert {"ix_schedule_due", "ix_schedule_area_due"} <= indexes


def test_database_file_is_private(ctx) -> None:
    path = Path(ctx.engine.url.database)
    assert path.stat().st_mode & 0o077 == 0


def test_backup_copies_a_consistent_database(ctx, tmp_path: Path) -> None:
    dest = backup_sqlite(Path(ctx.engine.url.database), tmp_path / "b", "manual", ctx.clock())
    import sqlite3

    con = sqlite3.connect(dest)
    assert con.execute("SELECT count(*) FROM items").fetchone()[0] == 5
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def count(ctx, model) -> int:
    with read_session(ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_failed_install_changes_nothing(ctx, tmp_path: Path, monkeypatch) -> None:
    items = "\n".join([question("n1"), question("n2", "II.A")])
    manifest = SMALL_MANIFEST.replace('id = "mini"', 'id = "other"')
    pack = load_pack(write_pack(tmp_path / "other", items, manifest))
    before = count(ctx, ItemRow)

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    # fail after the items were inserted, inside the same transaction
    monkeypatch.setattr(packs_service, "rebuild", boom)
    # a pending review of n1 makes install call rebuild -> boom
    from cmqprep.db.engine import write_session

    with write_session(ctx.engine) as s:
        s.add(ReviewRow(id="x" * 32, profile_id=ctx.profile_id, pack_key="other", item_key="n1",
                        reviewed_ms=1, rating=3, source="study"))
    with pytest.raises(RuntimeError):
        install_pack(ctx.engine, pack, 5)
    assert count(ctx, ItemRow) == before
    assert [p.key for p in pack_admin.list_packs(ctx.engine)] == ["mini"]


def study_all(ctx, n: int) -> StudySession:
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    for _ in range(n):
        card = session.next_card()
        if card.kind == "question":
            session.answer_choice(card, card.answer, 1000)
        else:
            session.rate(card, 3, 1000)
    return session


def test_update_keeps_unchanged_resets_rekeyed_retires_removed_and_adds(ctx, tmp_path: Path) -> None:
    study_all(ctx, 5)  # every item of the mini pack studied once
    ctx.clock.advance(days=1)
    v2_items = "\n".join([
        question("q1"),  # unchanged
        question("q2", key="C"),  # key changed: schedule reset, history kept
        question("q3", "II.A", key="C", stem="Reworded stem for q3?"),  # edited, same answer
        term("t1"),  # unchanged
        question("q9"),  # new; t2 removed
    ])
    v2 = load_pack(write_pack(tmp_path / "v2", v2_items,
                              SMALL_MANIFEST.replace('"1.0.0"', '"1.1.0"')))
    summary = install_pack(ctx.engine, v2, to_ms(ctx.clock()))
    assert summary.previous == "1.0.0" and summary.version == "1.1.0"
    assert summary.added == ["q9"] and summary.retired == ["t2"]
    assert sorted(summary.changed) == ["q2", "q3"] and summary.reset == ["q2"]
    assert summary.unchanged == 2
    with read_session(ctx.engine) as s:
        items = {i.key: i for i in s.scalars(select(ItemRow))}
        sched = {items_key: row for row in s.scalars(select(ScheduleRow))
                 for items_key in [next(k for k, i in items.items() if i.id == row.item_id)]}
        reviews = {k: n for k, n in s.execute(select(ReviewRow.item_key, func.count())
                                              .group_by(ReviewRow.item_key))}
    assert items["t2"].retired and not items["q1"].retired
    assert sched["q1"].state != NEW and sched["q3"].state != NEW
    assert "q2" not in sched  # reset: new again (the row only outlives a reset to keep a suspension)
    assert reviews == {"q1": 1, "q2": 1, "q3": 1, "t1": 1, "t2": 1}  # history kept
    assert json.loads(items["q3"].options)[2] == "q3 option three"
    # the retired card is never offered again
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    offered = set()
    for _ in range(10):
        card = session.next_card()
        if card is None:
            break
        offered.add(card.item_key)
        session.rate(card, 3, 10) if card.kind == "term" else session.answer_choice(card, card.answer, 10)
    assert "t2" not in offered and {"q2", "q9"} <= offered


def test_older_version_is_refused_unless_allowed(ctx, tmp_path: Path) -> None:
    old = load_pack(write_pack(tmp_path / "old", question("q1"),
                               SMALL_MANIFEST.replace('"1.0.0"', '"0.9.0"')))
    with pytest.raises(OlderVersionError):
        install_pack(ctx.engine, old, 1)
    summary = install_pack(ctx.engine, old, 1, allow_older=True)
    assert summary.version == "0.9.0" and len(summary.retired) == 4


def test_reviews_of_uninstalled_items_apply_once_the_pack_arrives(ctx, tmp_path: Path) -> None:
    from cmqprep.db.engine import write_session

    with write_session(ctx.engine) as s:
        s.add(ReviewRow(id="a" * 32, profile_id=ctx.profile_id, pack_key="later", item_key="l1",
                        reviewed_ms=to_ms(ctx.clock()), rating=3, source="study"))
    pack = load_pack(write_pack(tmp_path / "later", question("l1"),
                                SMALL_MANIFEST.replace('id = "mini"', 'id = "later"')))
    summary = install_pack(ctx.engine, pack, to_ms(ctx.clock()))
    assert summary.applied_reviews == 1
    with read_session(ctx.engine) as s:
        row = s.scalar(select(ScheduleRow).join(ItemRow, ItemRow.id == ScheduleRow.item_id)
                       .where(ItemRow.key == "l1"))
    assert row is not None and row.reps == 1 and row.state != NEW


def test_existing_database_is_backed_up_before_a_migration(ctx, monkeypatch) -> None:
    """Pretend a newer schema shipped: opening the old file first copies it to backups/."""
    import sqlite3

    import cmqprep.db.engine as engine_module
    from cmqprep.db.engine import migrate

    study_all(ctx, 2)
    monkeypatch.setattr(engine_module, "HEAD", "9999")
    backups = ctx.data_dir / "backups"
    made = migrate(ctx.engine, backups, ctx.clock())
    assert made is not None and made.parent == backups
    assert made.name.startswith(f"cmqprep-20260302T150000Z-before-migration-{HEAD}")
    con = sqlite3.connect(made)
    assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 2
    con.close()
    assert made.stat().st_mode & 0o077 == 0


def test_new_cards_interleave_areas_topics_and_term_cards() -> None:
    """A new learner meets every area, many topics and term cards within the first day's cards."""
    from cmqprep.services.packs import _positions

    bank = load_pack(Path(__file__).resolve().parents[1] / "question_bank" / "cmqoe")
    order = sorted(bank.items, key=lambda i: _positions(bank)[i.id])
    first = order[:20]
    topic_area = bank.blueprint.topic_codes()
    assert len({topic_area[i.topic] for i in first}) == 7
    assert len({i.topic for i in first}) >= 12
    assert sum(i.kind == "term" for i in first) >= 4
    assert sorted(_positions(bank).values()) == list(range(len(bank.items)))

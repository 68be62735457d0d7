"""`cmqprep pack new/export/list/show/remove`: scaffolding, round trips and removal."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmqprep.cli import main
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import (
    AttemptQuestionRow,
    AttemptRow,
    ItemRow,
    PackRow,
    ReviewRow,
    ScheduleRow,
)
from cmqprep.packs.native import load_pack
from cmqprep.services.pack_admin import remove_pack
from tests.conftest import SMALL_MANIFEST, question, write_pack
from tests.test_pack_update import schedules, study


def no_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def count(ctx, model, *where) -> int:
    with read_session(ctx.engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


# ---- pack new -------------------------------------------------------------------------------
def test_new_pack_with_the_bundled_blueprint_validates(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "acme"
    assert main(["pack", "new", str(dest), "--id", "acme", "--title", 'Acme "CMQ" drills']) == 0
    pack = load_pack(dest)
    assert pack.manifest.id == "acme" and pack.manifest.title == 'Acme "CMQ" drills'
    assert [i.kind for i in pack.items] == ["question", "term"]
    bank = load_pack(ROOT / "question_bank" / "cmqoe")
    assert pack.blueprint == bank.blueprint
    capsys.readouterr()
    assert main(["pack", "validate", str(dest)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    # the examples themselves are clean: only the blueprint's still empty topics are reported
    assert err and all("[empty-topic]" in line for line in err)
    assert len(err) == len(bank.blueprint.areas)


ROOT = Path(__file__).resolve().parents[1]


def test_new_pack_with_a_given_blueprint(tmp_path: Path, capsys) -> None:
    bp = tmp_path / "bp.toml"
    bp.write_text(SMALL_MANIFEST)
    dest = tmp_path / "small"
    assert main(["pack", "new", str(dest), "--id", "small", "--title", "Small",
                 "--blueprint", str(bp)]) == 0
    pack = load_pack(dest)
    assert [a.code for a in pack.blueprint.areas] == ["I", "II"]
    assert {i.topic for i in pack.items} == {"I.A"}


def test_new_refuses_a_non_empty_folder_and_a_bad_blueprint(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    assert main(["pack", "new", str(dest), "--id", "x", "--title", "X"]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL_MANIFEST.replace("scored = 3", "scored = 4"))
    fresh = tmp_path / "fresh"
    assert main(["pack", "new", str(fresh), "--id", "x", "--title", "X",
                 "--blueprint", str(bad)]) == 1
    assert f"{bad}: blueprint: area counts add up to 3, but scored is 4" in capsys.readouterr().err
    assert not fresh.exists()
    assert main(["pack", "new", str(fresh), "--id", "bad id!", "--title", "X"]) == 1
    assert not fresh.exists()


# ---- export and round trips -----------------------------------------------------------------
def by_id(items) -> dict:
    return {i.id: i for i in items}


def test_native_export_round_trips_through_the_database(ctx, cli, tmp_path: Path,
                                                        capsys) -> None:
    out = tmp_path / "exported"
    assert cli("pack", "export", "mini", "--format", "native", "-o", str(out)) == 0
    assert "Exported mini 1.0.0 (3 questions, 2 term cards) as native" in capsys.readouterr().out
    original = load_pack(ctx.data_dir.parent / "mini")
    again = load_pack(out)
    assert by_id(again.items) == by_id(original.items)
    assert again.blueprint == original.blueprint and again.manifest == original.manifest
    # installing the export changes nothing
    assert cli("pack", "install", str(out)) == 0
    assert "added 0, changed 0, unchanged 5, retired 0" in capsys.readouterr().out
    assert cli("pack", "export", "mini", "--format", "native", "-o", str(out)) == 1
    assert "--force" in capsys.readouterr().err
    assert cli("pack", "export", "nope", "--format", "native", "-o", str(tmp_path / "n")) == 1


@pytest.mark.parametrize("fmt, name", [("gift", "p.gift"), ("csv", "p.csv")])
def test_text_formats_round_trip_through_the_database(ctx, cli, tmp_path: Path, capsys,
                                                      fmt: str, name: str) -> None:
    pytest.importorskip(f"cmqprep.packs.{'csvfmt' if fmt == 'csv' else fmt}")
    out = tmp_path / name
    assert cli("pack", "export", "mini", "--format", fmt, "-o", str(out)) == 0
    original = load_pack(ctx.data_dir.parent / "mini")
    bp = str(ctx.data_dir.parent / "mini")
    assert cli("pack", "install", "--blueprint", bp, str(out)) == 0
    assert "added 0, changed 0, unchanged" in capsys.readouterr().out
    with read_session(ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(PackRow)) == 1
    again = tmp_path / "again"
    assert cli("pack", "export", "mini", "--format", "native", "-o", str(again)) == 0
    exported = by_id(load_pack(again).items)
    assert {k: v for k, v in exported.items() if v.kind == "question"} == {
        k: v for k, v in by_id(original.items).items() if v.kind == "question"}


def test_aiken_export_says_what_it_loses(ctx, cli, tmp_path: Path, capsys) -> None:
    pytest.importorskip("cmqprep.packs.aiken")
    out = tmp_path / "p.txt"
    assert cli("pack", "export", "mini", "--format", "aiken", "-o", str(out)) == 0
    err = capsys.readouterr().err
    assert "explanations" in err and "term card" in err
    assert "ANSWER: B" in out.read_text()


# ---- list, show, remove ---------------------------------------------------------------------
def test_remove_needs_confirmation(ctx, cli, monkeypatch, capsys) -> None:
    no_tty(monkeypatch)
    assert cli("pack", "remove", "mini") == 1
    assert "confirmation needed" in capsys.readouterr().err
    assert count(ctx, ItemRow, ItemRow.retired.is_(False)) == 5
    assert cli("pack", "remove", "nope", "-y") == 1
    assert "no installed pack 'nope'" in capsys.readouterr().err


def test_remove_keeps_progress_and_reinstall_brings_it_back(ctx, cli, monkeypatch,
                                                            capsys) -> None:
    study(ctx, ctx.profile_id, 5)
    before = schedules(ctx)
    with write_session(ctx.engine) as s:  # a suspension is not in the log: it must survive too
        s.execute(ScheduleRow.__table__.update().values(suspended=True)
                  .where(ScheduleRow.item_id == select(ItemRow.id).where(ItemRow.key == "t1")
                         .scalar_subquery()))
    capsys.readouterr()
    assert cli("pack", "remove", "mini", "-y") == 0
    captured = capsys.readouterr()
    assert "Removed mini 1.0.0: 5 item(s) are no longer studied" in captured.out
    assert "bundled bank" in captured.err  # the mini pack plays the bundled bank here
    assert count(ctx, ItemRow, ItemRow.retired.is_(False)) == 0
    assert count(ctx, ReviewRow) == 5
    assert cli("pack", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli("pack", "list", "--all") == 0
    assert "(removed)" in capsys.readouterr().out
    assert cli("pack", "show", "mini") == 1
    assert cli("pack", "remove", "mini", "-y") == 1  # already removed
    from cmqprep.services.study import StudySession

    assert StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock,
                        ctx.rng).next_card() is None
    # Reinstall (the same version: a removed pack installs afresh, without asking).
    capsys.readouterr()
    assert cli("pack", "install", str(ctx.data_dir.parent / "mini")) == 0
    out = capsys.readouterr().out
    assert out.startswith("Installed mini 1.0.0") and "restored 5" in out
    assert schedules(ctx) == before
    with read_session(ctx.engine) as s:
        assert s.scalar(select(ScheduleRow.suspended).join(ItemRow, ItemRow.id == ScheduleRow.item_id)
                        .where(ItemRow.key == "t1"))
    assert cli("pack", "show", "mini") == 0


def test_reinstall_rebuilds_from_reviews_logged_while_removed(ctx, cli, capsys) -> None:
    study(ctx, ctx.profile_id, 5)
    before = schedules(ctx)
    assert cli("pack", "remove", "mini", "-y") == 0
    with write_session(ctx.engine) as s:  # e.g. progress merged from another machine's log
        s.execute(ScheduleRow.__table__.delete())
    assert cli("pack", "install", str(ctx.data_dir.parent / "mini")) == 0
    assert schedules(ctx) == before


def add_attempt(ctx, attempt_id: str, keys: list[str], submitted: bool = True) -> None:
    with write_session(ctx.engine) as s:
        ids = dict(s.execute(select(ItemRow.key, ItemRow.id)).all())
        s.add(AttemptRow(id=attempt_id, profile_id=ctx.profile_id, kind="quiz", mode="exam",
                         started_ms=1, resumed_ms=1, current=len(keys) - 1,
                         submitted_ms=2 if submitted else None, correct=len(keys),
                         scored=len(keys)))
        s.flush()
        for pos, key in enumerate(keys):
            s.add(AttemptQuestionRow(attempt_id=attempt_id, position=pos, item_id=ids[key],
                                     area="I", scored=True, option_order="[0, 1, 2, 3]",
                                     chosen=0, correct=True))


def test_purge_deletes_progress_and_takes_questions_out_of_attempts(ctx, cli, tmp_path: Path,
                                                                    capsys) -> None:
    other = write_pack(tmp_path / "other", question("o1") + "\n" + question("o2"),
                       SMALL_MANIFEST.replace('id = "mini"', 'id = "other"'))
    assert cli("pack", "install", str(other)) == 0
    study(ctx, ctx.profile_id, 7)
    add_attempt(ctx, "a" * 32, ["o1", "q1", "o2", "q2"])  # mixed: keeps q1, q2
    add_attempt(ctx, "b" * 32, ["o1", "o2"])  # only the purged pack's: deleted
    capsys.readouterr()
    assert cli("pack", "remove", "other", "--purge", "-y") == 0
    assert "Purged other 1.0.0: 2 item(s), 2 review(s) of 1 learner(s)" in capsys.readouterr().out
    with read_session(ctx.engine) as s:
        assert s.scalar(select(PackRow.id).where(PackRow.key == "other")) is None
        assert set(s.scalars(select(ReviewRow.pack_key))) == {"mini"}
        assert s.get(AttemptRow, "b" * 32) is None
        kept = s.get(AttemptRow, "a" * 32)
        assert (kept.correct, kept.scored, kept.current) == (2, 2, 1)
        rows = s.execute(select(AttemptQuestionRow.position, ItemRow.key)
                         .join(ItemRow, ItemRow.id == AttemptQuestionRow.item_id)
                         .where(AttemptQuestionRow.attempt_id == "a" * 32)
                         .order_by(AttemptQuestionRow.position)).all()
    assert [tuple(r) for r in rows] == [(0, "q1"), (1, "q2")]
    assert count(ctx, ScheduleRow) == 5  # the mini pack's progress is untouched


def test_remove_is_one_transaction(ctx, monkeypatch) -> None:
    import cmqprep.services.pack_admin as packs

    study(ctx, ctx.profile_id, 5)
    add_attempt(ctx, "c" * 32, ["q1", "t1"])

    def boom(*_a: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(packs, "_compact_attempt", boom)
    with pytest.raises(RuntimeError):
        remove_pack(ctx.engine, "mini", purge=True)
    assert count(ctx, ReviewRow) == 5 and count(ctx, ItemRow) == 5
    assert count(ctx, AttemptQuestionRow) == 2


def test_list_and_show(ctx, cli, capsys) -> None:
    assert cli("pack", "list") == 0
    assert "mini" in capsys.readouterr().out
    assert cli("pack", "show", "mini") == 0
    out = capsys.readouterr().out
    assert out.startswith("mini 1.0.0: Mini pack") and "I.A" in out


def test_a_removed_pack_can_still_be_purged(ctx, cli, capsys) -> None:
    study(ctx, ctx.profile_id, 3)
    assert cli("pack", "remove", "mini", "-y") == 0
    assert count(ctx, ReviewRow) == 3
    assert cli("pack", "remove", "mini", "--purge", "-y") == 0
    assert "Purged mini 1.0.0: 5 item(s), 3 review(s) of 1 learner(s)" in capsys.readouterr().out
    assert count(ctx, ReviewRow) == 0 and count(ctx, ItemRow) == 0 and count(ctx, PackRow) == 0

"""Pack updates through the CLI: v1, study, v2 with an edit, a removal and an addition."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import ItemRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import NEW
from cmqprep.services.profiles import create_profile
from cmqprep.services.schedule_store import rebuild
from cmqprep.services.settings_cache import scheduler_configs
from cmqprep.services.study import StudySession
from tests.conftest import SMALL_MANIFEST, question, term, write_pack

SCHED_FIELDS = ("state", "step", "stability", "difficulty", "due_ms", "last_review_ms", "reps",
                "lapses")


def study(ctx, profile_id: int, n: int, right: bool = True) -> None:
    session = StudySession(ctx.engine, profile_id, ctx.settings, ctx.clock, ctx.rng)
    for _ in range(n):
        card = session.next_card()
        assert card is not None
        if card.kind == "question":
            session.answer_choice(card, card.answer if right else (card.answer + 1) % 4, 1000)
        else:
            session.rate(card, 3, 1000)


def schedules(ctx) -> dict[tuple[int, str], tuple]:
    with read_session(ctx.engine) as s:
        rows = s.execute(select(ScheduleRow, ItemRow.key)
                         .join(ItemRow, ItemRow.id == ScheduleRow.item_id)).all()
        return {(r.profile_id, key): tuple(getattr(r, f) for f in SCHED_FIELDS) for r, key in rows}


def review_counts(ctx) -> dict[str, int]:
    with read_session(ctx.engine) as s:
        return dict(s.execute(select(ReviewRow.item_key, func.count())
                              .group_by(ReviewRow.item_key)).all())


def test_v2_keeps_unchanged_resets_rekeyed_retires_removed_adds_new(ctx, cli, tmp_path: Path,
                                                                    capsys) -> None:
    other = create_profile(ctx.engine, "sam", 1)
    study(ctx, ctx.profile_id, 5)  # the mini pack (v1, the bank here): every item once
    study(ctx, other, 2)  # sam sees the first two new cards
    ctx.clock.advance(days=1)
    before = schedules(ctx)
    keys_seen_by_sam = {k for p, k in before if p == other}
    assert "q2" in {k for p, k in before if p == ctx.profile_id}
    v2 = write_pack(tmp_path / "v2", "\n".join([
        question("q1"),  # unchanged
        question("q2", key="C"),  # key changed: schedule reset, history kept
        term("t1"), term("t2", "I.A"),  # unchanged; q3 removed
        question("q9", "II.A"),  # new
    ]), SMALL_MANIFEST.replace('"1.0.0"', '"1.1.0"'))
    capsys.readouterr()
    assert cli("pack", "install", str(v2)) == 0
    out = capsys.readouterr().out.splitlines()
    learners = 1 + ("q2" in keys_seen_by_sam)
    assert out[0] == "Updated mini 1.0.0 -> 1.1.0"
    assert out[1] == "  added 1, changed 1, unchanged 3, retired 1"
    assert out[2].endswith(f"{learners} learner(s) had progress on them reset "
                           f"({learners} schedule(s))")
    after = schedules(ctx)
    for key in ("q1", "t1", "t2", "q3"):  # unchanged keep their schedule; retired rows stay
        assert after[(ctx.profile_id, key)] == before[(ctx.profile_id, key)], key
    assert (ctx.profile_id, "q2") not in after and (other, "q2") not in after  # new again
    assert not any(k == "q9" for _, k in after)
    assert review_counts(ctx) == {k: 1 + (k in keys_seen_by_sam)
                                  for k in ("q1", "q2", "q3", "t1", "t2")}  # history kept
    with read_session(ctx.engine) as s:
        items = {i.key: i for i in s.scalars(select(ItemRow))}
    assert items["q3"].retired and not items["q9"].retired and items["q2"].reset_ms is not None
    assert items["q2"].answer == 2 and items["q1"].edited_ms is None

    # Studying again: q3 is never offered; q2 comes back as a new card.
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    offered = []
    while (card := session.next_card()) is not None and len(offered) < 12:
        offered.append(card.item_key)
        if card.kind == "question":
            session.answer_choice(card, card.answer, 500)
        else:
            session.rate(card, 3, 500)
    assert "q3" not in offered and {"q2", "q9"} <= set(offered)
    # Rebuilding from the log agrees with the live schedule: the pre-reset review of q2 no
    # longer counts, so q2's schedule holds only what was studied after the update.
    live = schedules(ctx)
    with write_session(ctx.engine) as s:
        rebuild(s, s.scalars(select(ItemRow)).all(), scheduler_configs(s))
    assert schedules(ctx) == live
    assert live[(ctx.profile_id, "q2")][SCHED_FIELDS.index("reps")] == 1


def test_reinstalling_an_older_version_asks_and_yes_goes_ahead(ctx, cli, tmp_path: Path,
                                                               capsys) -> None:
    old = write_pack(tmp_path / "old", question("q1"), SMALL_MANIFEST.replace('"1.0.0"', '"0.9.0"'))
    assert cli("pack", "install", str(old)) == 1
    assert "Pass --yes" in capsys.readouterr().err
    assert cli("pack", "install", "-y", str(old)) == 0
    assert "retired 4" in capsys.readouterr().out


def test_a_retired_item_that_returns_unchanged_is_restored_with_its_progress(ctx, cli,
                                                                            tmp_path: Path,
                                                                            capsys) -> None:
    study(ctx, ctx.profile_id, 5)
    before = schedules(ctx)
    items = "\n".join([question("q1"), question("q2", key="B"), term("t1"), term("t2", "I.A")])
    v2 = write_pack(tmp_path / "v2", items, SMALL_MANIFEST.replace('"1.0.0"', '"1.1.0"'))
    assert cli("pack", "install", str(v2)) == 0
    v3 = write_pack(tmp_path / "v3", items + "\n" + question("q3", "II.A", key="C"),
                    SMALL_MANIFEST.replace('"1.0.0"', '"1.2.0"'))
    capsys.readouterr()
    assert cli("pack", "install", str(v3)) == 0
    assert "added 0, changed 0, unchanged 4, retired 0, restored 1" in capsys.readouterr().out
    assert schedules(ctx) == before
    assert schedules(ctx)[(ctx.profile_id, "q3")][0] != NEW

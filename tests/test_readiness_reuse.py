"""The readiness report is reused only while nothing it depends on has changed."""

from __future__ import annotations

from dataclasses import replace

from cmqprep.domain.scheduling import Grade
from cmqprep.services import readiness
from cmqprep.services.readiness import REUSE_MS, area_report
from cmqprep.services.study import StudySession
from tests.test_study_service import first_question


def report(ctx):
    return area_report(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock())


def computed(ctx, monkeypatch) -> list[int]:
    calls: list[int] = []
    real = readiness._compute

    def counting(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(readiness, "_compute", counting)
    return calls


def test_an_unchanged_database_is_not_read_twice(ctx, monkeypatch) -> None:
    calls = computed(ctx, monkeypatch)
    first = report(ctx)
    ctx.clock.advance(seconds=60)
    assert report(ctx) is first and len(calls) == 1


def test_an_answer_an_undo_and_time_each_make_a_new_report(ctx, monkeypatch) -> None:
    calls = computed(ctx, monkeypatch)
    first = report(ctx)
    sess = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    card = sess.next_card()
    if card.kind == "question":
        sess.answer_choice(card, card.answer, 1000)
    else:
        sess.rate(card, Grade.GOOD, 1000)
    after = report(ctx)
    assert len(calls) == 2 and after != first
    assert sum(a.seen for a in after) == sum(a.seen for a in first) + 1
    sess.undo()
    assert report(ctx) == first and len(calls) == 3
    ctx.clock.advance(seconds=REUSE_MS // 1000 + 1)
    report(ctx)
    assert len(calls) == 4


def test_other_settings_or_profiles_get_their_own_report(ctx, monkeypatch) -> None:
    calls = computed(ctx, monkeypatch)
    report(ctx)
    area_report(ctx.engine, ctx.profile_id, replace(ctx.settings, desired_retention=0.8),
                ctx.clock())
    assert len(calls) == 2


def fresh(ctx):
    readiness._reports.clear()
    return report(ctx)


def test_an_undo_then_a_different_answer_is_not_taken_for_the_first(ctx) -> None:
    # The review table's rowid is reused after an undo: the stamp must still tell them apart.
    sess = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    card = first_question(sess)
    sess.answer_choice(card, card.answer, 1000)  # right
    kept = report(ctx)
    back = sess.undo()
    sess.answer_choice(back, (back.answer + 1) % 4, 1000)  # wrong this time
    now = report(ctx)
    assert now is not kept and now == fresh(ctx)


def test_a_regrade_makes_a_new_report(ctx) -> None:
    sess = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    card = first_question(sess)
    sess.answer_choice(card, card.answer, 1000)
    kept = report(ctx)
    sess.regrade(Grade.HARD)
    now = report(ctx)
    assert now is not kept and now == fresh(ctx)

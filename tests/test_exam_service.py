"""Quiz and exam attempts against a real database: draw, answer, resume, submit, feed the schedule."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from cmqprep.db.engine import read_session
from cmqprep.db.models import ReviewRow, ScheduleRow
from cmqprep.domain.exam import DrawError
from cmqprep.domain.scheduling import to_ms
from cmqprep.services import exam
from cmqprep.services.exam import QuizSpec, TimeUp
from cmqprep.services.study import StudySession


def now(ctx) -> int:
    return to_ms(ctx.clock())


def start(ctx, **spec) -> exam.AttemptView:
    aid = exam.start_attempt(ctx.engine, ctx.profile_id, QuizSpec(**spec), now(ctx), random.Random(3))
    return exam.load_attempt(ctx.engine, aid)


def wrong(q: exam.QuestionView) -> int:
    return (q.key + 1) % len(q.options)


def test_full_exam_follows_the_pack_blueprint_and_time(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None)
    assert sorted(q.area for q in v.questions) == ["I", "I", "II"]  # mini blueprint: 2 + 1
    assert v.timing.limit_ms == 10 * 60_000 and all(q.scored for q in v.questions)


def test_exam_answers_change_until_submit_then_feed_the_log_with_their_source(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None)
    q0, q1 = v.questions[0], v.questions[1]
    exam.answer(ctx.engine, v.id, 0, wrong(q0), now(ctx), 4000, ctx.profile_id, ctx.settings)
    exam.answer(ctx.engine, v.id, 0, q0.key, now(ctx), 3000, ctx.profile_id, ctx.settings)
    exam.answer(ctx.engine, v.id, 1, wrong(q1), now(ctx), 3000, ctx.profile_id, ctx.settings)
    exam.set_marked(ctx.engine, v.id, 1, True, now(ctx))
    with read_session(ctx.engine) as s:
        assert s.scalars(select(ReviewRow)).all() == []  # deferred to submission
    ctx.clock.advance(minutes=2)
    done = exam.submit(ctx.engine, v.id, now(ctx), ctx.settings)
    sc = done.score()
    assert (sc.correct, sc.total, sc.answered) == (1, 3, 2) and done.marked == 1
    with read_session(ctx.engine) as s:
        reviews = s.scalars(select(ReviewRow)).all()
        assert sorted((r.item_key, r.rating, r.source) for r in reviews) == sorted(
            [(q0.item_key, 3, "exam"), (q1.item_key, 1, "exam")])
        missed = s.get(ScheduleRow, (ctx.profile_id, q1.item_id))
    # wrong in an exam: due again in flashcard study within the day
    assert missed.due_ms - now(ctx) < 24 * 3600_000
    ctx.clock.advance(minutes=30)
    card_ids = set()
    study = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, random.Random(1))
    card = study.next_card()
    card_ids.add(card.item_id)
    assert q1.item_id in card_ids
    history = exam.attempt_history(ctx.engine, ctx.profile_id)
    assert [(h.kind, h.correct, h.scored) for h in history] == [("exam", 1, 3)]
    assert sum(t for _, t in history[0].per_area.values()) == 3


def test_study_mode_logs_each_answer_at_once_and_locks_it(ctx) -> None:
    v = start(ctx, questions=2, minutes=0)
    q = v.questions[0]
    got = exam.answer(ctx.engine, v.id, 0, wrong(q), now(ctx), 2000, ctx.profile_id, ctx.settings)
    assert got.answered and not got.correct and got.logged
    again = exam.answer(ctx.engine, v.id, 0, q.key, now(ctx), 2000, ctx.profile_id, ctx.settings)
    assert again.chosen == wrong(q)  # feedback was shown: the answer stands
    with read_session(ctx.engine) as s:
        assert [(r.source, r.rating) for r in s.scalars(select(ReviewRow))] == [("quiz", 1)]
    assert v.timing.limit_ms is None


def test_resume_keeps_answers_and_the_clock_runs_while_away(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None)
    exam.answer(ctx.engine, v.id, 2, 1, now(ctx), 1000, ctx.profile_id, ctx.settings)
    ctx.clock.advance(minutes=4)
    assert exam.in_progress(ctx.engine, ctx.profile_id, "exam") == v.id
    back = exam.resume(ctx.engine, v.id, now(ctx), ctx.settings)
    assert back.questions[2].chosen == 1 and back.current == 2
    assert back.timing.remaining_ms(now(ctx)) == 6 * 60_000


def test_a_paused_clock_does_not_count_time_away(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None, clock_runs=False)
    ctx.clock.advance(minutes=3)
    exam.leave(ctx.engine, v.id, now(ctx))
    ctx.clock.advance(hours=5)  # away, e.g. the app was closed
    back = exam.resume(ctx.engine, v.id, now(ctx), ctx.settings)
    assert back.submitted_ms is None
    assert back.timing.remaining_ms(now(ctx)) == 7 * 60_000


def test_time_up_submits_automatically_even_after_a_crash(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None)
    exam.answer(ctx.engine, v.id, 0, 0, now(ctx), 1000, ctx.profile_id, ctx.settings)
    ctx.clock.advance(minutes=11)
    with pytest.raises(TimeUp):
        exam.answer(ctx.engine, v.id, 1, 0, now(ctx), 1000, ctx.profile_id, ctx.settings)
    done = exam.load_attempt(ctx.engine, v.id)
    assert done.auto_submitted and done.submitted_ms == v.timing.started_ms + 10 * 60_000
    assert done.answered == 1  # the late answer was not taken
    assert exam.in_progress(ctx.engine, ctx.profile_id) is None


def test_retake_is_exactly_the_missed_questions(ctx) -> None:
    v = start(ctx, kind="exam", mode="exam", questions=None)
    exam.answer(ctx.engine, v.id, 0, v.questions[0].key, now(ctx), 1, ctx.profile_id, ctx.settings)
    exam.answer(ctx.engine, v.id, 1, wrong(v.questions[1]), now(ctx), 1, ctx.profile_id, ctx.settings)
    done = exam.submit(ctx.engine, v.id, now(ctx), ctx.settings)
    spec = exam.retake_spec(done)
    assert set(spec.items) == {v.questions[1].item_id, v.questions[2].item_id}
    retake = exam.load_attempt(ctx.engine, exam.start_attempt(
        ctx.engine, ctx.profile_id, spec, now(ctx), random.Random(2)))
    assert {q.item_id for q in retake.questions} == set(spec.items)
    assert retake.mode == "study"


def test_consecutive_exams_avoid_repeats_while_the_bank_allows(ctx) -> None:
    first = start(ctx, kind="exam", mode="exam", questions=1, areas=("I",))
    second = start(ctx, kind="exam", mode="exam", questions=1, areas=("I",))
    assert first.questions[0].item_id != second.questions[0].item_id


def test_too_small_bank_says_so_and_offers_a_shorter_exam(ctx, monkeypatch) -> None:
    from cmqprep.db.engine import write_session
    from cmqprep.db.models import AreaRow

    with write_session(ctx.engine) as s:
        for a in s.scalars(select(AreaRow)):
            a.scored = 5
    with pytest.raises(DrawError, match="too small for a full mock exam.*--questions"):
        start(ctx, kind="exam", mode="exam", questions=None)
    short = start(ctx, kind="exam", mode="exam", questions=2)
    assert len(short.questions) == 2

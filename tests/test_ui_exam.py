"""The quiz/exam screens driven by keys: answer, mark, navigate, submit, review, retake, resume."""

from __future__ import annotations

import random

from cmqprep.domain.scheduling import to_ms
from cmqprep.services import exam
from cmqprep.services.exam import QuizSpec
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.exam import ExamScreen
from cmqprep.ui.screens.exam_dialogs import ConfirmDialog, NavigatorDialog
from cmqprep.ui.screens.home import HomeScreen
from cmqprep.ui.screens.results import ResultsScreen


def start_exam(ctx, **kw) -> str:
    spec = QuizSpec(kind="exam", mode="exam", questions=None, **kw)
    return exam.start_attempt(ctx.engine, ctx.profile_id, spec, to_ms(ctx.clock()),
                              random.Random(5))


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_answer_mark_navigate_submit_review_and_retake(ctx) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        assert "Question 1 of 3" in text(app, "#exam-progress")
        assert "Time left 10:00" in text(app, "#exam-clock")
        first = screen.question
        await pilot.press("abcd"[first.key])  # right
        await pilot.press("m")
        await pilot.press("n")
        second = screen.question
        await pilot.press("abcd"[(second.key + 1) % 4])  # wrong
        stored = exam.load_attempt(ctx.engine, aid)
        assert stored.questions[0].chosen == first.key and stored.questions[0].marked
        assert stored.questions[1].chosen == (second.key + 1) % 4

        await pilot.press("v")
        assert isinstance(app.screen, NavigatorDialog)
        await pilot.press("u")  # only the unanswered one is listed
        assert app.screen.shown == [2]
        await pilot.press("enter")
        assert isinstance(app.screen, ExamScreen) and screen.pos == 2

        await pilot.press("S")
        assert isinstance(app.screen, ConfirmDialog)
        assert "1 unanswered and 1 marked" in text(app, "#confirm-text")
        await pilot.press("n")
        assert isinstance(app.screen, ExamScreen)
        await pilot.press("S", "y")
        results = app.screen
        assert isinstance(results, ResultsScreen)
        assert "Score: 1 of 3" in text(app, "#results-score")
        assert "550 of 750" in text(app, "#results-score")
        await pilot.press("w")
        assert results.shown == [1, 2]
        assert second.explanation.split(".")[0] in text(app, "#results-question")
        await pilot.press("m")
        assert results.shown == [0]
        await pilot.press("r")
        retake = app.screen
        assert isinstance(retake, ExamScreen) and retake.view is not None
        assert {q.item_id for q in retake.view.questions} == {second.item_id,
                                                             stored.questions[2].item_id}


async def test_quit_mid_exam_and_resume_with_answers_and_time_intact(ctx) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("b", "n", "c", "m")
        ctx.clock.advance(minutes=3)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
    ctx.clock.advance(minutes=2)  # away, the clock keeps running
    assert exam.in_progress(ctx.engine, ctx.profile_id, "exam") == aid
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        assert screen.pos == 1 and screen.question.marked
        assert [q.chosen for q in screen.view.questions] == [1, 2, None]
        assert "Time left 05:00" in text(app, "#exam-clock")


async def test_the_clock_submits_at_zero(ctx) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await pilot.press("a")
        ctx.clock.advance(minutes=9, seconds=30)
        screen.tick()
        assert "00:30" in text(app, "#exam-clock")
        assert screen.query_one("#exam-clock").has_class("-warning")
        ctx.clock.advance(seconds=31)
        screen.tick()
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        assert "submitted when the time ran out" in text(app, "#results-score")
    done = exam.load_attempt(ctx.engine, aid)
    assert done.auto_submitted and done.answered == 1


async def test_home_screen_starts_a_quiz_an_exam_and_continues_an_unfinished_one(ctx) -> None:
    from cmqprep.ui.screens.exam_dialogs import ConfirmDialog
    from cmqprep.ui.screens.quiz_setup import QuizSetupDialog

    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("z")
        assert isinstance(app.screen, QuizSetupDialog)
        await pilot.press("backspace", "backspace", "2", "ctrl+s")
        quiz = app.screen
        assert isinstance(quiz, ExamScreen) and len(quiz.view.questions) == 2
        assert quiz.view.mode == "study"
        await pilot.press("escape")
        assert "Unfinished: Quiz: 2 questions" in text(app, "#attempt-note")
        await pilot.press("c")
        assert isinstance(app.screen, ExamScreen) and app.screen.attempt_id == quiz.attempt_id
        await pilot.press("S", "y", "escape")
        assert isinstance(app.screen, HomeScreen)
        assert text(app, "#attempt-note") == ""
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        mock = app.screen
        assert isinstance(mock, ExamScreen) and mock.view.kind == "exam"
        assert len(mock.view.questions) == 3  # the mini blueprint

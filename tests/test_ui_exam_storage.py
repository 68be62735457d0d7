"""A full disk during a quiz or mock exam: a dialog says what was not saved, nothing is lost."""

from __future__ import annotations

import pytest

from cmqprep.services import exam
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.exam import ExamScreen
from cmqprep.ui.screens.home import HomeScreen
from cmqprep.ui.screens.results import ResultsScreen
from tests.test_ui_db_error import dialog_text, fail
from tests.test_ui_exam import start_exam


async def test_a_failed_answer_and_submit_keep_the_attempt_open(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        q = screen.question
        with monkeypatch.context() as m:
            m.setattr(exam, "answer", fail)
            await pilot.press("abcd"[q.key])
            assert "question 1 was NOT saved" in dialog_text(app)
            await pilot.press("enter")
        assert app.screen is screen and screen.question.chosen is None
        assert exam.load_attempt(ctx.engine, aid).questions[0].chosen is None
        await pilot.press("abcd"[q.key])  # the disk has room again: the answer is stored
        assert exam.load_attempt(ctx.engine, aid).questions[0].chosen == q.key

        with monkeypatch.context() as m:
            m.setattr(exam, "submit", fail)
            await pilot.press("S", "y")
            assert "NOT submitted" in dialog_text(app)
            await pilot.press("enter")
        assert app.screen is screen and not screen.finished
        assert exam.load_attempt(ctx.engine, aid).submitted_ms is None
        await pilot.press("S", "y")
        assert isinstance(app.screen, ResultsScreen)
    assert exam.load_attempt(ctx.engine, aid).submitted_ms is not None


async def test_a_failed_mark_is_not_shown_as_marked(ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("attempt", aid))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        with monkeypatch.context() as m:
            m.setattr(exam, "set_marked", fail)
            await pilot.press("m")
            assert "mark was NOT changed" in dialog_text(app)
            await pilot.press("enter")
        assert not screen.question.marked
        assert not exam.load_attempt(ctx.engine, aid).questions[0].marked


async def test_a_failed_leave_is_reported_and_a_second_escape_leaves(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    aid = start_exam(ctx)
    app = make_app(ctx, start=("home", None))
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_attempt(aid)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExamScreen)
        q = screen.question
        await pilot.press("abcd"[q.key])
        with monkeypatch.context() as m:
            m.setattr(exam, "leave", fail)
            await pilot.press("escape")
            assert "Leaving could not be saved" in dialog_text(app)
            await pilot.press("enter")
            assert app.screen is screen
            await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
    stored = exam.load_attempt(ctx.engine, aid)
    assert stored.submitted_ms is None and stored.questions[0].chosen == q.key

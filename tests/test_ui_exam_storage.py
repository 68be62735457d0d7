"""A full disk during a quiz or mock exam: a dialog says what was not saved, nothing is lost."""

from __future__ import annotations

import pytest

from cmqprep.db.engine import friendly
from cmqprep.services import exam
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.exam import ExamScreen
from cmqprep.ui.screens.results import ResultsScreen
from cmqprep.ui.screens.storage_error import StorageErrorDialog
from tests.test_ui_exam import start_exam

FULL = friendly(Exception("database or disk is full"))
assert FULL is not None


def fail(*_a: object, **_k: object) -> None:
    raise FULL


def dialog_text(app) -> str:
    assert isinstance(app.screen, StorageErrorDialog)
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


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

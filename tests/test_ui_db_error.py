"""A database that fails during a study run (full disk, read-only file) shows a dialog that says
what was and was not saved; the app keeps running and no answer is lost or logged twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cmqprep.db.engine import friendly, make_engine, read_session
from cmqprep.db.models import ReviewRow
from cmqprep.services.study import StudySession
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.storage_error import StorageErrorDialog
from cmqprep.ui.screens.study import StudyScreen
from cmqprep.ui.widgets.card_text import CardText

FULL = friendly(Exception("database or disk is full"))
assert FULL is not None


def logged(ctx) -> list[tuple[str, int]]:
    with read_session(ctx.engine) as s:
        return [(r.item_key, r.rating) for r in
                s.scalars(select(ReviewRow).order_by(ReviewRow.reviewed_ms, ReviewRow.id))]


def dialog_text(app) -> str:
    assert isinstance(app.screen, StorageErrorDialog)
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


def fail(*_a: object, **_k: object) -> None:
    raise FULL


async def first_question(pilot, screen: StudyScreen) -> None:
    """Skip term cards (suspending them) until a question is shown."""
    while screen.card is not None and screen.card.kind != "question":
        await pilot.press("s")
    assert screen.card is not None


async def test_full_disk_on_an_answer_keeps_the_card_and_says_it_was_not_saved(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, StudyScreen)
        await first_question(pilot, screen)
        card = screen.card
        with monkeypatch.context() as m:
            m.setattr(StudySession, "_record", fail)
            await pilot.press("abcd"[card.answer])
            text = dialog_text(app)
            assert "disk is full" in text and "NOT saved" in text and "cmqprep doctor" in text
            await pilot.press("enter")
        assert app.screen is screen and app.is_running
        assert screen.card is card and screen.phase == "question"
        assert screen.query_one(CardText).text("verdict") == ""
        assert logged(ctx) == []
        await pilot.press("abcd"[card.answer])  # the disk has room again: the retry is saved
        assert screen.phase == "answered"
        assert screen.query_one(CardText).text("verdict").startswith("Right")
    assert logged(ctx) == [(card.item_key, 3)]


async def test_read_only_database_is_reported_by_sqlite_itself(ctx, tmp_path: Path) -> None:
    """No mock: the session writes through a read-only connection and SQLite refuses."""
    db = tmp_path / "data" / "cmqprep.sqlite"
    read_only = make_engine(f"sqlite:///file:{db}?mode=ro&uri=true")
    app = make_app(ctx, start=("study", None))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            await first_question(pilot, screen)
            card = screen.card
            writable, screen.session.engine = screen.session.engine, read_only
            await pilot.press("abcd"[card.answer])
            assert "read-only" in dialog_text(app) and "NOT saved" in dialog_text(app)
            await pilot.press("escape")
            assert app.screen is screen and screen.card is card and screen.phase == "question"
            screen.session.engine = writable
            await pilot.press("abcd"[card.answer])
            assert screen.phase == "answered"
    finally:
        read_only.dispose()
    assert logged(ctx) == [(card.item_key, 3)]


async def test_next_card_unreadable_after_a_saved_answer_retries_without_logging_twice(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await first_question(pilot, screen)
        card = screen.card
        await pilot.press("abcd"[card.answer])
        with monkeypatch.context() as m:
            m.setattr(StudySession, "next_card", fail)
            await pilot.press("enter")
            assert "answers so far are saved" in dialog_text(app)
            await pilot.press("enter")
            assert screen.phase == "stalled"
            assert "could not be read" in screen.query_one(CardText).text("prompt")
            await pilot.press("enter", "3", "1")  # still failing; grades do nothing here
            assert isinstance(app.screen, StorageErrorDialog)
            await pilot.press("escape")
        await pilot.press("enter")  # readable again
        assert screen.phase in ("question", "front") and screen.card is not None
        assert screen.card.item_id != card.item_id
    assert logged(ctx) == [(card.item_key, 3)]


async def test_failed_regrade_keeps_the_saved_grade_and_the_card(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await first_question(pilot, screen)
        card = screen.card
        await pilot.press("abcd"[card.answer])
        with monkeypatch.context() as m:
            m.setattr(StudySession, "regrade", fail)
            await pilot.press("4")
            text = dialog_text(app)
            assert "rated Good" in text and "Easy was NOT saved" in text
            await pilot.press("enter")
        assert screen.card is card and screen.phase == "answered"
    assert logged(ctx) == [(card.item_key, 3)]


async def test_failed_undo_leaves_the_answer_undoable_later(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    import cmqprep.services.study as study_service

    def broken_session(*_a: object, **_k: object):  # type: ignore[no-untyped-def]
        raise FULL

    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await first_question(pilot, screen)
        card = screen.card
        await pilot.press("abcd"[card.answer], "enter")
        with monkeypatch.context() as m:
            m.setattr(study_service, "write_session", broken_session)
            await pilot.press("u")
            assert "Nothing was undone" in dialog_text(app)
            await pilot.press("enter")
        assert len(screen.session.history) == 1 and screen.session.summary.studied == 1
        assert logged(ctx) == [(card.item_key, 3)]
        await pilot.press("u")
        assert screen.card.item_id == card.item_id and screen.session.history == []
    assert logged(ctx) == []


async def test_failed_term_rating_and_suspend_keep_the_card(
        tmp_path: Path, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context
    from tests.conftest import term, write_pack

    pack = write_pack(tmp_path / "terms", term("t1") + "\n" + term("t2", "I.A"))
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", clock, random.Random(1), bank_dir=pack)
    app = make_app(ctx, start=("study", None))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            card = screen.card
            await pilot.press("space")
            with monkeypatch.context() as m:
                m.setattr(StudySession, "_record", fail)
                m.setattr(StudySession, "suspend", fail)
                await pilot.press("3")
                assert "rating of this card was NOT saved" in dialog_text(app)
                await pilot.press("enter")
                assert screen.card is card and screen.phase == "back"
                await pilot.press("s")
                assert "NOT suspended" in dialog_text(app)
                await pilot.press("enter")
                assert screen.card is card
            await pilot.press("4")
        assert logged(ctx) == [(card.item_key, 4)]
    finally:
        ctx.engine.dispose()


async def test_the_dialog_shows_the_driver_message_literally() -> None:
    from textual.app import App

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(StorageErrorDialog("[bold]odd[/] \x1b[31m text.", "NOT saved."))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        problem = str(app.screen.query_one("#storage-problem").render())
        assert problem == "[bold]odd[/] \u241b[31m text."
        await pilot.press("escape")
        assert not isinstance(app.screen, StorageErrorDialog)

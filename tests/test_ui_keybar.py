"""The key bar: every screen shows its live keys, the keys follow the study phase, a click runs
a key, and changing keys mounts nothing (Textual's Footer leaked its old key widgets)."""

from __future__ import annotations

import gc

import pytest
from textual.widget import Widget

from cmqprep.ui.app import make_app
from cmqprep.ui.screens.home import HomeScreen
from cmqprep.ui.screens.study import StudyScreen
from cmqprep.ui.screens.summary import SummaryDialog
from cmqprep.ui.widgets.keybar import KeyBar


def bar(app) -> str:
    return str(app.screen.query_one(KeyBar).render())


def live_widgets() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Widget))


async def test_home_and_study_screens_show_their_live_keys(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(100, 24)) as pilot:
        assert isinstance(app.screen, HomeScreen)
        assert "s Study all" in bar(app) and "q Quit" in bar(app)
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StudyScreen)
        while screen.card.kind != "question":
            assert "Show answer" in bar(app) and "Answer" not in bar(app).replace("Show answer", "")
            await pilot.press("s")
        assert "a-d Answer" in bar(app) and "Again" not in bar(app) and "Undo" not in bar(app)
        await pilot.press("abcd"[screen.card.answer])
        keys = bar(app)
        assert all(k in keys for k in ("1 Again", "2 Hard", "3 Good", "4 Easy", "Next", "u Undo"))
        assert "a-d Answer" not in keys
        await pilot.press("escape")
        assert isinstance(app.screen, SummaryDialog)


async def test_clicking_a_key_in_the_bar_runs_it(ctx) -> None:
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        keybar = app.screen.query_one(KeyBar)
        x = next(x for x in range(80) if keybar.key_at(x) == ("escape", True))
        await pilot.click(KeyBar, offset=(x, 0))
        assert isinstance(app.screen, SummaryDialog)


async def test_changing_keys_mounts_nothing_and_leaves_nothing_behind(
        ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer and undo repeatedly: each turn changes the live keys twice. The widget count
    must not grow with the number of turns (Textual's Footer kept ~12 widgets per change)."""
    monkeypatch.setattr(StudyScreen, "notify", lambda *a, **k: None)  # toasts live for seconds
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        keybar = screen.query_one(KeyBar)
        while screen.card.kind != "question":
            await pilot.press("s")

        async def turns(n: int) -> None:
            for _ in range(n):
                await pilot.press("abcd"[screen.card.answer])
                assert "Again" in bar(app)
                await pilot.press("u")
                assert "Answer" in bar(app)

        await turns(3)
        before = live_widgets()
        await turns(15)
        assert live_widgets() <= before
        assert list(keybar.children) == [] and screen.query_one(KeyBar) is keybar


async def test_keys_that_do_not_fit_go_to_a_second_line_instead_of_off_screen(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        keybar = app.screen.query_one(KeyBar)
        lines = bar(app).split("\n")
        assert len(lines) >= 2 and keybar.size.height == len(lines)
        assert all(len(line) <= 60 for line in lines)
        assert "q Quit" in bar(app) and "s Study all" in bar(app)
        x = lines[-1].index("q Quit") + 1
        assert keybar.key_at(x, len(lines) - 1) == ("q", True)

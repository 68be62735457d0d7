"""The stats screen and the home screen's plan and suggestions, driven by keys on a seeded history."""

from __future__ import annotations

from textual.widgets import DataTable, Sparkline

from cmqprep.ui.app import make_app
from cmqprep.ui.screens.home import HomeScreen
from cmqprep.ui.screens.stats import StatsScreen
from tests.conftest import with_settings
from tests.test_stats_report import seed


async def settled(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Let the home screen's after-paint worker (readiness) finish and post its results."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_stats_screen_shows_the_seeded_history(ctx) -> None:
    seed(ctx)
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is not None
        assert screen.query_one("#body").display and not screen.query_one("#loading").display
        areas = screen.query_one("#area-table", DataTable)
        assert areas.row_count == 2
        row = areas.get_row("I")
        assert row[2:5] == [3, 2, 0]  # items, seen, mastered
        assert row[6] == "0%"  # the one quiz answer in area I was wrong
        assert "not an ASQ score" in text(app, "#readiness")
        assert "ASQ reports a scaled score" in text(app, "#explanation")
        history = screen.query_one("#history", Sparkline).data
        assert history is not None and list(history)[-8:] == [1, 0, 0, 0, 3, 1, 1, 2]
        assert "Streak: 4 days" in text(app, "#streak")
        assert screen.query_one("#calibration-table", DataTable).row_count >= 1
        assert "constant guess over 4 reviews" in text(app, "#log-loss")
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_home_shows_exam_plan_and_quizzes_the_weakest_areas(ctx) -> None:
    seed(ctx)
    with_settings(ctx, exam_date="2026-03-23")
    app = make_app(ctx)
    asked: list[list[str]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.start_quiz = lambda areas=(), **_: asked.append(list(areas))  # type: ignore[method-assign]
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert "Exam in 21 days (2026-03-23): 1 new a day" in text(app, "#exam-plan")
        await settled(app, pilot)  # readiness is computed in a worker after the first paint
        assert home.overall is not None and home.overall.weakest[0] == "I"
        assert "Weakest: I Leadership" in text(app, "#suggest")
        await pilot.press("w")
        assert asked == [list(home.overall.weakest)]


async def test_home_without_exam_date_or_history(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text(app, "#exam-plan") == ""
        await settled(app, pilot)
        assert "Readiness 30%" in text(app, "#suggest")

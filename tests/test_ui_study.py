"""The TUI driven by keys (Textual Pilot): home, study, ratings, undo, suspend, summary."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select

from cmqprep.db.engine import default_url, read_session
from cmqprep.db.models import ReviewRow, ScheduleRow
from cmqprep.services.context import open_context
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.home import HomeScreen
from cmqprep.ui.screens.study import StudyScreen
from cmqprep.ui.screens.summary import SummaryDialog
from cmqprep.ui.widgets.card_text import CardText
from tests.conftest import question, write_pack


def logged(ctx) -> list[tuple[str, int]]:
    with read_session(ctx.engine) as s:
        return [(r.item_key, r.rating) for r in
                s.scalars(select(ReviewRow).order_by(ReviewRow.reviewed_ms, ReviewRow.id))]


def plain(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def shown(app, part: str) -> str:
    """The text of one part of the study card ("prompt", "opt0".."opt3", "verdict", ...)."""
    return app.screen.query_one("#card-text", CardText).text(part)


async def test_study_several_cards_by_keys_and_find_exactly_those_reviews(ctx) -> None:
    app = make_app(ctx)
    expected: list[tuple[str, int]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StudyScreen)
        plan = ["right-enter", "wrong", "right-4", "right-2", "term"]
        for step in plan:
            card = screen.card
            assert card is not None
            ctx.clock.advance(seconds=30)
            if card.kind == "term":
                await pilot.press("space")
                assert card.explanation in shown(app, "explanation")
                await pilot.press("3")
                expected.append((card.item_key, 3))
                continue
            right = "abcd"[card.answer]
            wrong = "abcd"[(card.answer + 1) % 4]
            if step == "wrong":
                await pilot.press(wrong)
                assert "Not quite" in shown(app, "verdict")
                await pilot.press("enter")
                expected.append((card.item_key, 1))
            else:
                await pilot.press(right)
                assert shown(app, "verdict").startswith("Right")
                key = {"right-4": "4", "right-2": "2"}.get(step, "enter")
                await pilot.press(key)
                expected.append((card.item_key, {"enter": 3, "4": 4, "2": 2}[key]))
        await pilot.press("escape")
        assert isinstance(app.screen, SummaryDialog)
        assert plain(app, "#summary-studied") == "Cards studied: 5"
        await pilot.press("enter")
        assert isinstance(app.screen, HomeScreen)
    assert sorted(logged(ctx)) == sorted(expected)


async def test_undo_and_suspend_keys(ctx) -> None:
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, StudyScreen)
        first = screen.card
        if first.kind == "question":
            await pilot.press("abcd"[first.answer], "enter")
        else:
            await pilot.press("space", "3")
        assert len(logged(ctx)) == 1
        await pilot.press("u")
        assert logged(ctx) == [] and screen.card.item_id == first.item_id
        await pilot.press("s")  # suspend it
        assert screen.card.item_id != first.item_id
    with read_session(ctx.engine) as s:
        row = s.get(ScheduleRow, (ctx.profile_id, first.item_id))
    assert row is not None and row.suspended


async def test_home_screen_shows_counts_per_area(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)):
        summary = plain(app, "#summary")
        assert "New available: 5" in summary and "Due today: 0" in summary
        table = app.screen.query_one("#areas")
        assert table.row_count == 2


async def test_study_one_area_from_the_home_screen(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "enter")  # second row: area II
        screen = app.screen
        assert isinstance(screen, StudyScreen) and screen.area == "II"
        assert screen.card.area == "II"


async def test_pack_text_is_shown_literally(tmp_path: Path, clock) -> None:
    hostile = r"[bold]Bold?[/] [@click=app.quit]quit[/] \u001b[31mred\u001b]0;title\u0007 end"
    items = question("h1", stem=hostile, options=["[red]a[/red]", "b [/]", "c", "d"])
    pack = write_pack(tmp_path / "hostile", items)
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", clock, random.Random(1), bank_dir=pack)
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        text = shown(app, "prompt")
        assert text == "[bold]Bold?[/] [@click=app.quit]quit[/] \u241b[31mred\u241b]0;title\u2407 end"
        options = [shown(app, f"opt{i}") for i in range(4)]
        assert any("[red]a[/red]" in o for o in options) and any("b [/]" in o for o in options)
        await pilot.click("#card-text")  # a click on the text must not trigger app.quit
        assert app.is_running
    ctx.engine.dispose()


async def test_term_card_reveal_and_rate_by_keys(tmp_path: Path, clock) -> None:
    from tests.conftest import term

    pack = write_pack(tmp_path / "terms", term("t1") + "\n" + term("t2", "I.A"))
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", clock, random.Random(1), bank_dir=pack)
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        first = screen.card
        assert first.kind == "term" and shown(app, "explanation") == ""
        await pilot.press("a", "3")  # answer keys do nothing before the back is shown
        assert logged(ctx) == [] and screen.phase == "front"
        await pilot.press("space")
        assert shown(app, "explanation") == first.explanation and screen.phase == "back"
        await pilot.press("4")
        second = screen.card
        await pilot.press("space", "enter")  # Enter rates Good
    assert sorted(logged(ctx)) == sorted([(first.item_key, 4), (second.item_key, 3)])
    ctx.engine.dispose()

"""The study-group screen driven by keys: the comparison table, literal member names, refresh."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import DataTable

from cmqprep.services.group import add_members
from cmqprep.ui.app import make_app
from cmqprep.ui.screens.group import GroupScreen
from cmqprep.ui.screens.home import HomeScreen
from tests.test_group import MEMBERS


async def test_group_screen_shows_the_comparison_with_names_taken_literally(ctx) -> None:
    add_members(ctx.engine, MEMBERS[:2], ctx.clock())
    app = make_app(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(GroupScreen(ctx))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GroupScreen)
        table = screen.query_one("#group-table", DataTable)
        assert [str(c.label) for c in table.columns.values()] == [
            "Member", "Last active", "Streak", "Exam", "I", "II", "III"]
        ben = table.get_row("b2" * 16)
        name = ben[0]
        assert isinstance(name, Content)
        assert name.plain == "[bold]Ben[/]" and not name.spans  # not parsed as markup
        assert list(ben[1:]) == ["2026-02-26", "0d", "-", "40/5", "70/50", "35/0"]
        assert list(table.get_row("a1" * 16)[1:4]) == ["2026-03-01", "6d", "66%"]
        assert table.row_count == 3  # two members and the group mean
        weakest = str(screen.query_one("#group-weakest").render())
        assert weakest.startswith("Weakest areas: III Quality tools")

        add_members(ctx.engine, MEMBERS[2:], ctx.clock())
        await pilot.press("r")
        assert table.row_count == 4
        assert table.get_row("c3" * 16)[0].plain == "Chloé"
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_group_screen_without_members_says_how_to_add_them(ctx) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(GroupScreen(ctx))
        await pilot.pause()
        text = str(app.screen.query_one("#group-summary").render())
        assert "No group members yet" in text and "cmqprep group add" in text
        assert app.screen.query_one("#group-table", DataTable).row_count == 0

"""The Textual application and its factory, shared by the CLI and the tests."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from cmqprep.services.context import AppContext


class CmqApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "cmqprep"
    ENABLE_COMMAND_PALETTE = False  # every action has a key; the footer needs the room
    SUB_TITLE = "CMQ/OE study"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, ctx: AppContext, start: tuple[str, str | None] | None = None):
        super().__init__()
        self.ctx = ctx
        self._start = start

    def on_mount(self) -> None:
        from cmqprep.ui.screens.home import HomeScreen

        self.push_screen(HomeScreen(self.ctx))
        if self._start and self._start[0] == "study":
            self.start_study(self._start[1])

    def start_study(self, area: str | None) -> None:
        from cmqprep.ui.screens.study import StudyScreen

        self.push_screen(StudyScreen(self.ctx, area))


def make_app(ctx: AppContext, start: tuple[str, str | None] | None = None) -> CmqApp:
    """Build the app for a context (database, profile, settings, clock, rng)."""
    return CmqApp(ctx, start)

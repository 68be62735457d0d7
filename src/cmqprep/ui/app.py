"""The Textual application and its factory, shared by the CLI and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from cmqprep.services.context import AppContext

if TYPE_CHECKING:
    from cmqprep.services.exam import QuizSpec


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
        elif self._start and self._start[0] == "attempt" and self._start[1]:
            self.open_attempt(self._start[1])

    def start_study(self, area: str | None) -> None:
        from cmqprep.ui.screens.study import StudyScreen

        self.push_screen(StudyScreen(self.ctx, area))


    # ---- quizzes and mock exams ----------------------------------------------------------------
    def open_attempt(self, attempt_id: str, replace: bool = False) -> None:
        """Show an attempt: its exam screen, or its results once it has been submitted."""
        from cmqprep.ui.screens.exam import ExamScreen

        screen = ExamScreen(self.ctx, attempt_id)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def start_quiz_spec(self, spec: QuizSpec, replace: bool = False) -> None:
        from cmqprep.domain.exam import DrawError
        from cmqprep.domain.scheduling import to_ms
        from cmqprep.services.exam import start_attempt

        try:
            attempt_id = start_attempt(self.ctx.engine, self.ctx.profile_id, spec,
                                       to_ms(self.ctx.clock()), self.ctx.rng)
        except DrawError as exc:
            self.notify(str(exc), title="Cannot start", severity="error", timeout=10)
            return
        self.open_attempt(attempt_id, replace=replace)

    def start_quiz(self, areas: Sequence[str] = (), questions: int = 20,
                   mode: str = "study") -> None:
        from cmqprep.services.exam import QuizSpec

        self.start_quiz_spec(QuizSpec(kind="quiz", mode=mode, questions=questions,
                                      areas=tuple(areas)))

    def start_exam(self) -> None:
        from cmqprep.services.exam import QuizSpec

        self.start_quiz_spec(QuizSpec(kind="exam", mode="exam", questions=None,
                                      clock_runs=not self.ctx.settings.pause_exam_clock))

    def resume_attempt(self) -> bool:
        """Continue the newest unfinished quiz or exam; False if there is none."""
        from cmqprep.services.exam import in_progress

        attempt_id = in_progress(self.ctx.engine, self.ctx.profile_id)
        if attempt_id is None:
            return False
        self.open_attempt(attempt_id)
        return True


def make_app(ctx: AppContext, start: tuple[str, str | None] | None = None) -> CmqApp:
    """Build the app for a context (database, profile, settings, clock, rng)."""
    return CmqApp(ctx, start)

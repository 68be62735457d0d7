"""End-of-run summary dialog: cards studied, accuracy and time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from cmqprep.config import Clock
from cmqprep.domain.scheduling import to_ms
from cmqprep.services.study import RunSummary
from cmqprep.ui.literal import literal


def format_duration(ms: int) -> str:
    seconds = max(0, ms) // 1000
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"


class SummaryDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("enter", "close", "Home", priority=True),
        Binding("escape", "close", "Home"),
    ]

    def __init__(self, summary: RunSummary, clock: Clock):
        super().__init__()
        self.summary = summary
        self.clock = clock

    def compose(self) -> ComposeResult:
        s = self.summary
        elapsed = to_ms(self.clock()) - s.started_ms
        acc = (f"{s.correct} of {s.answered_questions} questions right ({s.accuracy:.0%})"
               if s.accuracy is not None else "no questions answered")
        with Vertical():
            yield Static(literal("Study run finished"), id="summary-title")
            yield Static(literal(f"Cards studied: {s.studied}"), id="summary-studied")
            yield Static(literal(f"Accuracy: {acc}"), id="summary-accuracy")
            yield Static(literal(f"Time: {format_duration(elapsed)}"), id="summary-time")
            yield Static(literal("Press Enter to return home."))

    def action_close(self) -> None:
        self.dismiss(None)

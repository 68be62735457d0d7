"""The quiz set-up dialog of the home screen: how many questions, which areas, mode and time."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, Static

from cmqprep.services.exam import QuizSpec
from cmqprep.ui.literal import literal


class QuizSetupDialog(ModalScreen[QuizSpec | None]):
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, areas: Sequence[tuple[str, str]], preselect: Sequence[str] = ()):
        super().__init__()
        self.areas = list(areas)
        self.preselect = set(preselect)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="quiz-setup"):
            yield Static(literal("New quiz"), classes="dialog-title")
            with Horizontal(classes="setup-row"):
                yield Label("Questions ")
                yield Input("20", id="setup-n", type="integer", max_length=4)
                yield Label("  Minutes (blank: exam pace, 0: untimed) ")
                yield Input("", id="setup-minutes", type="number", max_length=6)
            with RadioSet(id="setup-mode"):
                yield RadioButton("Study mode: feedback after each answer", value=True)
                yield RadioButton("Exam mode: feedback at the end")
            yield Label("Areas (none ticked: all areas)")
            yield SelectionList[str](
                *[(f"{code}  {title}", code, code in self.preselect) for code, title in self.areas],
                id="setup-areas")
            yield Static(id="setup-error")
            with Horizontal(classes="setup-row"):
                yield Button("Start (Ctrl+S)", id="setup-start", variant="primary")
                yield Button("Cancel (Esc)", id="setup-cancel")
            yield Static(literal("Tab moves between fields; Space ticks an area."),
                         classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#setup-n", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "setup-start":
            self.action_start()
        else:
            self.action_cancel()

    def spec(self) -> QuizSpec | str:
        """The quiz asked for, or a message saying what to fix."""
        try:
            n = int(self.query_one("#setup-n", Input).value or "20")
        except ValueError:
            return "Questions must be a whole number."
        if not 1 <= n <= 1000:
            return "Questions must be between 1 and 1000."
        raw = self.query_one("#setup-minutes", Input).value.strip()
        minutes: float | None = None
        if raw:
            try:
                minutes = float(raw)
            except ValueError:
                return "Minutes must be a number."
            if not 0 <= minutes <= 1440:
                return "Minutes must be between 0 and 1440."
        exam_mode = self.query_one("#setup-mode", RadioSet).pressed_index == 1
        areas = tuple(self.query_one("#setup-areas", SelectionList).selected)
        return QuizSpec(kind="quiz", mode="exam" if exam_mode else "study", questions=n,
                        areas=areas, minutes=minutes)

    def action_start(self) -> None:
        result = self.spec()
        if isinstance(result, str):
            self.query_one("#setup-error", Static).update(literal(result))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

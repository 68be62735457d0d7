"""Dialogs of the exam screen: confirm, jump to a question number, and the review navigator."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from cmqprep.services.exam import AttemptView
from cmqprep.ui.literal import literal


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; y or Enter confirms, n or Esc declines."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(self.title_text), classes="dialog-title")
            yield Static(literal(self.text), id="confirm-text")
            yield Static(literal("y: yes    n / Esc: no"), classes="dialog-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class JumpDialog(ModalScreen[int | None]):
    """Ask for a question number (1..N)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(f"Go to question (1-{self.count})"), classes="dialog-title")
            yield Input(placeholder="number, then Enter", id="jump-input", type="integer")
            yield Static(id="jump-error", classes="dialog-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            n = int(event.value)
        except ValueError:
            n = 0
        if 1 <= n <= self.count:
            self.dismiss(n)
        else:
            self.query_one("#jump-error", Static).update(
                literal(f"Type a number from 1 to {self.count}."))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NavigatorDialog(ModalScreen[int | None]):
    """Every question with its status; filter to unanswered or marked; Enter goes there."""

    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("enter", "go", "Go to", priority=True),
        Binding("u", "filter('unanswered')", "Unanswered"),
        Binding("m", "filter('marked')", "Marked"),
        Binding("l", "filter('all')", "All"),
    ]

    def __init__(self, view: AttemptView, current: int):
        super().__init__()
        self.view, self.current = view, current
        self.shown: list[int] = []
        self.which = "all"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(id="nav-title", classes="dialog-title")
            yield DataTable(id="nav-table", cursor_type="row", zebra_stripes=True)
            yield Static(literal("Enter: go to   u: unanswered   m: marked   l: all   Esc: back"),
                         classes="dialog-keys")

    def on_mount(self) -> None:
        table = self.query_one("#nav-table", DataTable)
        for label, width in (("#", 4), ("Status", 11), ("Mark", 6), ("Area", 5), ("Question", 200)):
            table.add_column(label, width=width)
        self.fill()
        table.focus()

    def fill(self) -> None:
        v = self.view
        table = self.query_one("#nav-table", DataTable)
        table.clear()
        self.shown = [q.position for q in v.questions
                      if self.which == "all" or (self.which == "marked" and q.marked)
                      or (self.which == "unanswered" and not q.answered)]
        for pos in self.shown:
            q = v.questions[pos]
            stem = " ".join(q.prompt.split())
            table.add_row(pos + 1, "answered" if q.answered else "unanswered",
                          "★" if q.marked else "", literal(q.area), literal(stem[:200]))
        title = (f"{len(v.questions)} questions: {v.answered} answered, {v.unanswered} "
                 f"unanswered, {v.marked} marked   (showing {self.which})")
        self.query_one("#nav-title", Static).update(literal(title))
        if self.current in self.shown:
            table.move_cursor(row=self.shown.index(self.current))

    def action_filter(self, which: str) -> None:
        self.which = which
        self.fill()

    def action_go(self) -> None:
        if not self.shown:
            return
        row = self.query_one("#nav-table", DataTable).cursor_row
        self.dismiss(self.shown[row])

    def action_cancel(self) -> None:
        self.dismiss(None)

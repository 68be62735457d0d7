"""Home screen: what is due today and where the learner stands per BoK area."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cmqprep.services.context import AppContext
from cmqprep.services.stats import HomeCounts, home_counts
from cmqprep.ui.literal import literal


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "study_all", "Study all"),
        Binding("enter", "study_area", "Study area", priority=True),
        Binding("r", "refresh", "Refresh"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.counts: HomeCounts | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield Static("s: study all areas   enter: study the highlighted area   q: quit", id="hint")
        table: DataTable[object] = DataTable(id="areas", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="bank-note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#areas", DataTable)
        for label, width in (("Area", 5), ("Title", 42), ("Items", 6), ("Seen", 5), ("Due", 5),
                             ("New", 5)):
            table.add_column(label, width=width)
        if self.ctx.bank_message:
            self.query_one("#bank-note", Static).update(literal(self.ctx.bank_message))
        self.action_refresh()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        c = home_counts(self.ctx.engine, self.ctx.profile_id, self.ctx.profile_name,
                        self.ctx.settings, self.ctx.clock())
        self.counts = c
        self.query_one("#summary", Static).update(literal(
            f"Profile {c.profile}    Due today: {c.due_now}    New available: {c.new_available}"
            f"    Reviews today: {c.reviews_today}"))
        table = self.query_one("#areas", DataTable)
        row = table.cursor_row
        table.clear()
        for a in c.areas:
            table.add_row(literal(a.code), literal(a.title), a.items, a.seen, a.due, a.new,
                          key=a.code)
        if c.areas:
            table.move_cursor(row=min(row, len(c.areas) - 1))

    def action_study_all(self) -> None:
        self.app.start_study(None)  # type: ignore[attr-defined]

    def action_study_area(self) -> None:
        if not self.counts or not self.counts.areas:
            return
        table = self.query_one("#areas", DataTable)
        area = self.counts.areas[table.cursor_row].code
        self.app.start_study(area)  # type: ignore[attr-defined]

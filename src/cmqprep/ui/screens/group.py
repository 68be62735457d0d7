"""Study-group screen: each member's readiness and mastery per area, and the weakest areas.

Member names and area titles come from other people's export files, so every one of them is
shown through literal() (never parsed as markup, control characters made visible).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from cmqprep.domain.scheduling import from_ms
from cmqprep.services.context import AppContext
from cmqprep.services.group import GroupView, group_view
from cmqprep.ui.literal import literal
from cmqprep.ui.widgets.keybar import KeyBar

EMPTY = ("No group members yet. Each member runs 'cmqprep progress export --summary-only -o "
         "FILE' and shares the file; add the files with 'cmqprep group add FILE...'.")
LEGEND = ("Cells: readiness % / mastery %. Streaks and figures are as of each member's export. "
          "Weakest areas: where the group, on average, stands to lose the most exam points.")


def pct(x: float | None) -> str:
    return "-" if x is None else f"{round(100 * x)}"


class GroupScreen(Screen[None]):
    DEFAULT_CSS = """
    GroupScreen #group-summary { height: auto; padding: 0 1; margin: 1 0 0 0; }
    GroupScreen #group-table { height: 1fr; margin: 1 1 0 1; }
    GroupScreen #group-weakest { height: auto; padding: 0 1; }
    GroupScreen #group-legend { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.view: GroupView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="group-summary")
        yield DataTable(id="group-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="group-weakest")
        yield Static(LEGEND, id="group-legend")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_refresh()
        self.query_one("#group-table", DataTable).focus()

    def _day(self, ms: int | None) -> str:
        return "-" if ms is None else from_ms(ms).astimezone(self.ctx.settings.tz()).strftime(
            "%Y-%m-%d")

    def action_refresh(self) -> None:
        view = group_view(self.ctx.engine)
        self.view = view
        table = self.query_one("#group-table", DataTable)
        table.clear(columns=True)
        summary = self.query_one("#group-summary", Static)
        weakest = self.query_one("#group-weakest", Static)
        if not view.members:
            summary.update(EMPTY)
            weakest.update("")
            return
        summary.update(f"Study group: {len(view.members)} member(s)")
        for label, width in (("Member", 18), ("Last active", 11), ("Streak", 6), ("Exam", 5)):
            table.add_column(label, width=width)
        for a in view.areas:
            table.add_column(literal(a.code), key=a.code)
        for m in view.members:
            exam = "-" if m.latest_exam is None else f"{m.latest_exam.percent:.0f}%"
            cells = []
            for a in view.areas:
                mine = m.areas.get(a.code)
                cells.append("" if mine is None else f"{pct(mine.readiness)}/{pct(mine.mastery)}")
            table.add_row(literal(m.name), self._day(m.last_active_ms), f"{m.streak_days}d",
                          exam, *cells, key=m.member_id)
        table.add_row(literal("Group mean"), "", "", "",
                      *(f"{pct(a.mean_readiness)}/{pct(a.mean_mastery)}" for a in view.areas),
                      key="__mean__")
        titles = {a.code: a.title for a in view.areas}
        weakest.update(literal("Weakest areas: " + ("; ".join(
            f"{code} {titles[code]}" for code in view.weakest) or "-")))

    def action_back(self) -> None:
        self.app.pop_screen()

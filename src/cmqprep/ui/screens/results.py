"""Results of a quiz or mock exam: score overall and per BoK area, time, a pass estimate, and a
review of every question (filterable to wrong or marked), with a retake of the missed ones."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from cmqprep.domain.exam import bar, format_clock
from cmqprep.domain.items import LETTERS
from cmqprep.services import exam
from cmqprep.services.context import AppContext
from cmqprep.services.exam import AttemptView
from cmqprep.ui.literal import literal
from cmqprep.ui.widgets.keybar import KeyBar

ASQ_NOTE = ("ASQ reports a scaled score (550 of 750 to pass) and publishes no percentage cut. "
            "The target percentage is your own (setting exam_pass_percent); this estimate is "
            "not an ASQ score.")


def score_lines(v: AttemptView, target: int) -> list[str]:
    sc = v.score()
    used = exam.used_ms(v)
    lines = [f"{v.title}",
             f"Score: {sc.correct} of {sc.total} scored questions ({sc.percent:.0f}%)   "
             f"answered {sc.answered} of {len(v.questions)}   time used {format_clock(used)}"
             + ("   (submitted when the time ran out)" if v.auto_submitted else "")]
    if sc.unscored_total:
        lines.append(f"Unscored (pretest) questions: {sc.unscored_correct} of "
                     f"{sc.unscored_total} right, not counted.")
    verdict = "at or above" if sc.passes(target) else "below"
    lines.append(f"Pass estimate: {sc.percent:.0f}% is {verdict} your target of {target}%.")
    lines.append(ASQ_NOTE)
    lines.append("")
    for a in sc.areas:
        title = v.area_titles.get(a.code, "")[:30]
        lines.append(f"{a.code:<4} {title:<30} {a.correct:>3}/{a.total:<3} {a.percent:>4.0f}% "
                     f"{bar(a.correct / a.total if a.total else 0, 20)}")
    return lines


class ResultsScreen(Screen[None]):
    BINDINGS = [
        Binding("w", "filter('wrong')", "Wrong"),
        Binding("m", "filter('marked')", "Marked"),
        Binding("l", "filter('all')", "All"),
        Binding("r", "retake", "Retake missed"),
        Binding("escape,q", "close", "Home"),
    ]

    def __init__(self, ctx: AppContext, attempt_id: str, auto_submitted: bool = False):
        super().__init__()
        self.ctx = ctx
        self.attempt_id = attempt_id
        self.view: AttemptView = exam.load_attempt(ctx.engine, attempt_id)
        self.which = "all"
        self.shown: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="results-score")
        yield DataTable(id="results-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="results-detail"):
            yield Static(id="results-question")
        yield KeyBar()

    def on_mount(self) -> None:
        lines = score_lines(self.view, self.ctx.settings.exam_pass_percent)
        self.query_one("#results-score", Static).update(literal("\n".join(lines)))
        table = self.query_one("#results-table", DataTable)
        for label, width in (("#", 4), ("Area", 5), ("You", 4), ("Key", 4), ("", 2), ("Mark", 4),
                             ("Question", 200)):
            table.add_column(label, width=width)
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one("#results-table", DataTable)
        table.clear()
        qs = self.view.questions
        self.shown = [q.position for q in qs if self.which == "all"
                      or (self.which == "wrong" and not q.correct)
                      or (self.which == "marked" and q.marked)]
        for pos in self.shown:
            q = qs[pos]
            you = LETTERS[q.chosen] if q.chosen is not None else "-"
            tick = "✓" if q.correct else "✗"
            table.add_row(pos + 1, literal(q.area), you, LETTERS[q.key], tick,
                          "★" if q.marked else "", literal(" ".join(q.prompt.split())[:200]))
        self.show_detail(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.cursor_row)

    def show_detail(self, row: int) -> None:
        out = self.query_one("#results-question", Static)
        if not self.shown:
            out.update(literal(f"No {self.which} questions."))
            return
        q = self.view.questions[self.shown[min(row, len(self.shown) - 1)]]
        lines = [f"Question {q.position + 1} ({q.topic}{'' if q.scored else ', unscored'})",
                 q.prompt, ""]
        for i, opt in enumerate(q.options):
            tag = "key" if i == q.key else ("yours" if i == q.chosen else "")
            lines.append(f"{'→' if tag else ' '} {LETTERS[i]}) {opt}" + (f"   [{tag}]" if tag else ""))
        if q.chosen is None:
            lines.append("You did not answer this one.")
        lines += ["", q.explanation]
        if q.reference:
            lines.append(f"Source: {q.reference}")
        out.update(literal("\n".join(lines)))

    def action_filter(self, which: str) -> None:
        self.which = which
        self.fill()

    def action_retake(self) -> None:
        spec = exam.retake_spec(self.view)
        if not spec.items:
            self.notify("Nothing missed: every question was right.", timeout=4)
            return
        self.app.start_quiz_spec(spec, replace=True)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.app.pop_screen()

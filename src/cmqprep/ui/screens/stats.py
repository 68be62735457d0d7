"""Statistics screen: readiness per area, reviews per day, forecast, calibration and scores.

The report catches the statistics cache up with the review log (a full replay the first time,
only new reviews afterwards), so it is computed in a thread worker while a progress bar shows
how far a replay has got; the screen only formats the finished report.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, ProgressBar, Sparkline, Static
from textual.worker import Worker, WorkerState

from cmqprep.domain.scheduling import from_ms
from cmqprep.services.context import AppContext
from cmqprep.services.stats_report import StatsReport, stats_report
from cmqprep.ui.literal import literal
from cmqprep.ui.widgets.keybar import KeyBar

EXPLANATION = (
    "How readiness is estimated: for each area, every question you have studied counts at its "
    "chance of a right answer today (the scheduler's predicted recall, plus a lucky guess when "
    "you have forgotten); unseen questions count at 30%, a little above guessing. Your quiz and "
    "mock-exam answers of the last 90 days are blended in. Areas are weighted as on the exam. "
    "The range covers 80% of likely outcomes: the luck of which questions come up, and what is "
    "not yet known about material you have not seen. This is not an ASQ score: ASQ reports a "
    "scaled score (550 of 750 passes) and publishes no percentage cut.")


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def hours(ms: int) -> str:
    minutes = ms // 60_000
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


class StatsScreen(Screen[None]):
    DEFAULT_CSS = """
    StatsScreen #loading { height: auto; padding: 1 2; }
    StatsScreen #body { height: 1fr; padding: 0 1; }
    StatsScreen .heading { margin: 1 0 0 0; text-style: bold; }
    StatsScreen .note { color: $text-muted; }
    StatsScreen DataTable { height: auto; max-height: 12; }
    StatsScreen Sparkline { height: 3; margin: 0 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "refresh", "Recompute"),
    ]

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.report: StatsReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="loading"):
            yield Static("Computing statistics over your review history...")
            yield ProgressBar(id="progress", show_eta=False)
        with VerticalScroll(id="body"):
            yield Static(id="readiness", classes="heading")
            yield DataTable(id="area-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="plan")
            yield Static(EXPLANATION, id="explanation", classes="note")
            yield Static(id="history-title", classes="heading")
            yield Sparkline([], id="history")
            yield Static(id="streak")
            yield Static(id="forecast-title", classes="heading")
            yield Sparkline([], id="forecast")
            yield Static(id="calibration-title", classes="heading")
            yield DataTable(id="calibration-table", cursor_type="none")
            yield Static(id="log-loss", classes="note")
            yield Static("Quiz and mock-exam scores", classes="heading")
            yield DataTable(id="attempts-table", cursor_type="none", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        areas = self.query_one("#area-table", DataTable)
        # Fixed widths keep the whole table inside 80 columns.
        for label, width in (("Area", 4), ("Title", 18), ("Items", 5), ("Seen", 4),
                             ("Mast.", 5), ("Recall", 6), ("Quiz", 4), ("Ready", 5),
                             ("Range", 8)):
            areas.add_column(label, width=width)
        self.query_one("#calibration-table", DataTable).add_columns(
            "Interval", "Reviews", "Predicted", "Recalled")
        self.query_one("#attempts-table", DataTable).add_columns(
            "Date", "Kind", "Score", "%", "Per area")
        self.action_refresh()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.query_one("#loading").display = True
        self.query_one("#body").display = False
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.run_worker(self._compute, thread=True, exclusive=True, name="stats")

    def _compute(self) -> StatsReport:
        ctx = self.ctx
        return stats_report(ctx.engine, ctx.profile_id, ctx.profile_name, ctx.settings,
                            ctx.clock(), progress=self._progress)

    def _progress(self, done: int, total: int) -> None:
        # Called from the worker thread: hand the update to the UI thread.
        self.app.call_from_thread(self.query_one("#progress", ProgressBar).update,
                                  total=max(total, 1), progress=done)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "stats":
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, StatsReport):
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.query_one("#loading").display = False
            self.notify(f"Could not compute the statistics: {event.worker.error}",
                        severity="error", timeout=10)

    def show(self, r: StatsReport) -> None:
        self.report = r
        o = r.overall
        self.query_one("#readiness", Static).update(
            f"Readiness: {pct(o.readiness)} expected correct (80% range {pct(o.low)}-"
            f"{pct(o.high)}); not an ASQ score")
        table = self.query_one("#area-table", DataTable)
        table.clear()
        for a in r.areas:
            table.add_row(literal(a.code), literal(a.title), a.items, a.seen, a.mastered,
                          pct(a.recall_now), pct(a.quiz_accuracy), pct(a.readiness),
                          f"{pct(a.readiness_low)}-{pct(a.readiness_high)}", key=a.code)
        lines = []
        if o.weakest:
            lines.append("Study next (most expected points lost): " + ", ".join(o.weakest))
        if r.plan and r.exam:
            lines.append(r.plan.describe(r.exam))
        self.query_one("#plan", Static).update(literal("\n".join(lines)))
        counts = [d.reviews for d in r.days]
        self.query_one("#history-title", Static).update(
            f"Reviews per day, last {len(counts)} days (most in a day: {max(counts, default=0)})")
        self.query_one("#history", Sparkline).data = counts
        self.query_one("#streak", Static).update(
            f"Streak: {r.streak_days} days    Time studied: {hours(r.studied_ms_total)} "
            f"(last 7 days: {hours(r.studied_ms_week)})")
        self.query_one("#forecast-title", Static).update(
            f"Reviews due in the next {len(r.forecast)} days (today {r.forecast[0]}, "
            f"busiest day {max(r.forecast, default=0)})")
        self.query_one("#forecast", Sparkline).data = r.forecast
        self.query_one("#calibration-title", Static).update(
            f"Calibration: share recalled vs predicted (target retention "
            f"{pct(r.target_retention)})")
        cal = self.query_one("#calibration-table", DataTable)
        cal.clear()
        for b in r.calibration:
            cal.add_row(b.label, b.n, pct(b.predicted), pct(b.actual))
        self.query_one("#log-loss", Static).update(
            "Not enough reviews a day or more apart yet." if r.log_loss is None else
            f"Log loss {r.log_loss:.3f} against {r.baseline_log_loss:.3f} for a constant guess "
            f"over {r.calibration_reviews} reviews (lower is better).")
        att = self.query_one("#attempts-table", DataTable)
        att.clear()
        for a in reversed(r.attempts[-20:]):
            areas = " ".join(f"{k} {c}/{t}" for k, (c, t) in a.per_area.items())
            when = from_ms(a.submitted_ms).astimezone(self.ctx.settings.tz())
            att.add_row(f"{when:%Y-%m-%d}", a.kind,
                        f"{a.correct}/{a.scored}", f"{a.percent:.0f}", literal(areas))
        self.query_one("#loading").display = False
        self.query_one("#body").display = True

"""Home screen: what is due today, where the learner stands per BoK area, and what to do next."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from cmqprep.services.context import AppContext
from cmqprep.services.counts import HomeCounts, exam_day
from cmqprep.services.launch import home_counts_now
from cmqprep.ui.literal import literal
from cmqprep.ui.widgets.keybar import KeyBar

if TYPE_CHECKING:  # SQLAlchemy and the readiness service load after the first paint
    from cmqprep.domain.readiness import DailyPlan
    from cmqprep.services.attempt_status import Unfinished
    from cmqprep.services.readiness import AreaReport, ReadinessOverall


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "study_all", "Study all"),
        Binding("enter", "study_area", "Study area", priority=True),
        Binding("z", "quiz", "Quiz"),
        Binding("x", "mock_exam", "Mock exam"),
        Binding("c", "continue_attempt", "Continue"),
        Binding("w", "weak_quiz", "Quiz weakest"),
        Binding("t", "stats", "Stats"),
        Binding("g", "group", "Group"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.counts: HomeCounts | None = None
        self.readiness: list[AreaReport] = []
        self.overall: ReadinessOverall | None = None
        self.plan: DailyPlan | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary")
        yield Static(id="exam-plan")
        yield Static(id="suggest")
        yield Static(id="attempt-note")
        yield Static("s: study all areas   enter: study the highlighted area   z: quiz   "
                     "x: mock exam   q: quit", id="hint")
        table: DataTable[object] = DataTable(id="areas", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="bank-note")
        yield KeyBar()

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
        # Counts only (trigger-kept counters and due ranges: a few ms at 100k items); the
        # readiness report and, at launch, the engine come after the paint (_after_paint).
        c = home_counts_now(self.ctx, self.ctx.clock())
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
        self._refresh_plan(c)
        attempt_pending = not self.ctx.engine_ready
        if not attempt_pending:
            self._refresh_attempt()
        # The backup thread may append while this runs: take each notice off the list once
        # (list.pop is atomic), so none is shown twice or cleared unseen.
        while self.ctx.notices:
            self.notify(literal(self.ctx.notices.pop(0)), severity="warning", timeout=10)
        self.call_after_refresh(self._after_paint, attempt_pending)

    def _after_paint(self, attempt_pending: bool = False) -> None:
        """Start what must not delay a paint: the readiness report (and at launch the engine
        and the unfinished-attempt note), in a thread; keys stay live meanwhile."""
        if self.overall is None:
            self.query_one("#suggest", Static).update("Readiness: computing...")
        self.run_worker(lambda: self._background(attempt_pending), thread=True, exclusive=True,
                        group="home-background")

    def _background(self, attempt_pending: bool) -> None:
        """Worker thread: runs _compute in a daemon thread and waits for it, giving up when the
        worker is cancelled, so quitting at once never waits for the report (seconds at 100k
        items); the daemon thread only reads."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        done = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            try:
                self._compute(worker, attempt_pending)
            except BaseException as exc:  # handed to the worker: Textual reports it
                failed.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, name="cmqprep-home", daemon=True).start()
        while not done.wait(0.05):
            if worker.is_cancelled:
                return
        if failed:
            raise failed[0]

    def _compute(self, worker, attempt_pending: bool) -> None:  # type: ignore[no-untyped-def]
        """Waits for the engine (opened in the background at launch), then posts the
        unfinished-attempt note (at launch) and the readiness report to the screen."""
        ctx = self.ctx
        try:
            engine = ctx.engine
            if attempt_pending:
                from cmqprep.services.attempt_status import unfinished

                found = unfinished(engine, ctx.profile_id)
                self._post(worker, self._show_attempt, found)
            from cmqprep.services.readiness import area_report, overall

            reports = area_report(engine, ctx.profile_id, ctx.settings, ctx.clock())
            self._post(worker, self._show_readiness, reports, overall(reports))
        except Exception as exc:
            if ctx.engine_failure() is None:
                raise
            # The launch path's background open failed; cli reports why after the app ends.
            self._post(worker, lambda _exc: self.app.exit(return_code=1), exc)

    def _post(self, worker, fn, *args) -> None:  # type: ignore[no-untyped-def]
        if worker.is_cancelled or not self.is_attached:
            return
        try:
            self.app.call_from_thread(fn, *args)
        except RuntimeError:
            pass  # the app is closing

    def _refresh_attempt(self) -> None:
        from cmqprep.services.attempt_status import unfinished

        self._show_attempt(unfinished(self.ctx.engine, self.ctx.profile_id))

    def _show_attempt(self, found: Unfinished | None) -> None:
        self.unfinished = found.id if found else None
        note = self.query_one("#attempt-note", Static)
        if found is None:
            note.update("")
        else:
            note.update(literal(f"Unfinished: {found.title} ({found.answered} of {found.total} "
                                f"answered). c: continue"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue_attempt":
            return getattr(self, "unfinished", None) is not None
        return True

    def action_continue_attempt(self) -> None:
        if not self.app.resume_attempt():  # type: ignore[attr-defined]
            self.notify("Nothing to continue.")

    def action_quiz(self) -> None:
        from cmqprep.ui.screens.quiz_setup import QuizSetupDialog

        areas = [(a.code, a.title) for a in self.counts.areas] if self.counts else []

        def done(spec) -> None:  # type: ignore[no-untyped-def]
            if spec is not None:
                self.app.start_quiz_spec(spec)  # type: ignore[attr-defined]

        self.app.push_screen(QuizSetupDialog(areas), done)

    def action_mock_exam(self) -> None:
        from cmqprep.services.exam import exam_capacity
        from cmqprep.ui.screens.exam_dialogs import ConfirmDialog

        need, have = exam_capacity(self.ctx.engine)
        short = {a: n for a, n in need.items() if have.get(a, 0) < n}
        if short:
            self.notify("The bank is too small for a full mock exam (" + ", ".join(
                f"area {a}: {have.get(a, 0)} of {n}" for a, n in short.items())
                + "). Press z for a quiz, or run cmqprep exam --questions N for a shorter exam.",
                severity="warning", timeout=10)
            return
        clock = ("stops while you are away (pause_exam_clock)" if self.ctx.settings.pause_exam_clock
                 else "keeps running while you are away, as in a test centre")
        text = (f"A full mock exam: {sum(need.values())} scored questions drawn to the blueprint "
                f"plus unscored ones, all feedback at the end. The clock {clock}. "
                f"You can leave and continue later. Start now?")

        def done(ok: bool | None) -> None:
            if ok:
                self.app.start_exam()  # type: ignore[attr-defined]

        self.app.push_screen(ConfirmDialog("Mock exam", text), done)

    def action_group(self) -> None:
        from cmqprep.ui.screens.group import GroupScreen

        self.app.push_screen(GroupScreen(self.ctx))

    def _show_readiness(self, reports: list[AreaReport], total: ReadinessOverall) -> None:
        self.readiness, self.overall = reports, total
        titles = {a.code: a for a in self.readiness}
        suggest = self.query_one("#suggest", Static)
        if self.overall.weakest:
            names = ", ".join(f"{code} {titles[code].title} ({titles[code].readiness:.0%} ready)"
                              for code in self.overall.weakest)
            suggest.update(literal(f"Readiness {self.overall.readiness:.0%} (80% range "
                                   f"{self.overall.low:.0%}-{self.overall.high:.0%}; not an ASQ "
                                   f"score). Weakest: {names}. w: quiz on them, t: stats"))
        else:
            suggest.update("")

    def _refresh_plan(self, c: HomeCounts) -> None:
        now = self.ctx.clock()
        exam = exam_day(self.ctx.settings)
        line = self.query_one("#exam-plan", Static)
        if exam is None:
            self.plan = None
            line.update("")
            return
        from cmqprep.domain.readiness import daily_plan, study_date  # only with an exam date

        today = study_date(now, self.ctx.settings.tz(), self.ctx.settings.day_start_hour)
        self.plan = daily_plan(today, exam, sum(a.new for a in c.areas),
                               self.ctx.settings.new_per_day)
        line.update(self.plan.describe(exam))

    def action_stats(self) -> None:
        from cmqprep.ui.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen(self.ctx))

    def action_weak_quiz(self) -> None:
        if self.overall is None:
            self.notify("Readiness is still being worked out; try again in a moment.")
            return
        if not self.overall.weakest:
            self.notify("No areas to suggest yet.")
            return
        start = getattr(self.app, "start_quiz", None)
        if start is None:
            self.notify("Quizzes are not available in this version.", severity="warning")
            return
        start(areas=list(self.overall.weakest))

    def action_study_all(self) -> None:
        self.app.start_study(None)  # type: ignore[attr-defined]

    def action_study_area(self) -> None:
        if not self.counts or not self.counts.areas:
            return
        table = self.query_one("#areas", DataTable)
        area = self.counts.areas[table.cursor_row].code
        self.app.start_study(area)  # type: ignore[attr-defined]

"""The quiz / mock-exam screen: one question at a time, a clock that is always visible, marks,
navigation, and submit with a confirmation. Every answer and mark is stored when given."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from cmqprep.db.engine import DatabaseError
from cmqprep.domain.exam import format_clock
from cmqprep.domain.items import LETTERS
from cmqprep.domain.scheduling import to_ms
from cmqprep.services import exam
from cmqprep.services.context import AppContext
from cmqprep.services.exam import AttemptView, QuestionView, TimeUp
from cmqprep.ui.literal import literal
from cmqprep.ui.screens.exam_dialogs import ConfirmDialog, JumpDialog, NavigatorDialog
from cmqprep.ui.screens.storage_error import StorageErrorDialog
from cmqprep.ui.widgets.keybar import KeyBar

WARN_MS = 5 * 60_000


class ExamScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "choose(0)", "Answer", key_display="a-d"),
        Binding("b", "choose(1)", "B", show=False),
        Binding("c", "choose(2)", "C", show=False),
        Binding("d", "choose(3)", "D", show=False),
        Binding("n,right,enter", "move(1)", "Next", key_display="n/→", priority=True),
        Binding("p,left", "move(-1)", "Prev", key_display="p/←", priority=True),
        Binding("m", "mark", "Mark"),
        Binding("g", "jump", "Go to #"),
        Binding("v", "navigator", "Review list"),
        Binding("S", "submit", "Submit", key_display="S"),
        Binding("escape", "leave", "Save & leave"),
    ]

    class ExamSubmitted(Message):
        """Posted when the attempt has been submitted (by the learner or by the clock)."""

        def __init__(self, attempt_id: str, auto: bool) -> None:
            super().__init__()
            self.attempt_id = attempt_id
            self.auto = auto

    def __init__(self, ctx: AppContext, attempt_id: str):
        super().__init__()
        self.ctx = ctx
        self.attempt_id = attempt_id
        self.view: AttemptView | None = None
        self.pos = 0
        self.shown_at = time.monotonic()
        self.warned = False
        self.finished = False
        self.submit_failed = self.leave_failed = False  # storage errors already shown

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="exam-bar"):
            yield Static(id="exam-progress")
            yield Static(id="exam-clock")
        with VerticalScroll(id="exam-card"):
            yield Static(id="exam-stem")
            for i in range(4):
                yield Static(classes="exam-option", id=f"xopt{i}")
            yield Static(id="exam-feedback")
        yield KeyBar()

    def now_ms(self) -> int:
        return to_ms(self.ctx.clock())

    def on_mount(self) -> None:
        self.view = exam.resume(self.ctx.engine, self.attempt_id, self.now_ms(), self.ctx.settings)
        if self.view.submitted_ms is not None:
            self.call_after_refresh(self._finished, self.view.auto_submitted)
            return
        self.pos = min(self.view.current, len(self.view.questions) - 1)
        self.show()
        self.set_interval(1.0, self.tick)
        self.query_one("#exam-card").focus()

    # ---- display ----------------------------------------------------------------------------
    @property
    def question(self) -> QuestionView:
        assert self.view is not None
        return self.view.questions[self.pos]

    def show(self) -> None:
        assert self.view is not None
        q = self.question
        self.shown_at = time.monotonic()
        self.query_one("#exam-stem", Static).update(literal(q.prompt))
        reveal = self.view.mode == "study" and q.logged
        for i in range(4):
            w = self.query_one(f"#xopt{i}", Static)
            if i >= len(q.options):
                w.display = False
                continue
            w.display = True
            mark = "●" if q.chosen == i else "○"
            w.update(literal(f"{mark} {LETTERS[i].lower()}) {q.options[i]}"))
            w.set_class(q.chosen == i, "-chosen")
            w.set_class(reveal and i == q.key, "-key")
            w.set_class(reveal and q.chosen == i and i != q.key, "-wrong")
        fb = self.query_one("#exam-feedback", Static)
        if reveal:
            verdict = "Right." if q.correct else f"Wrong: the answer is {LETTERS[q.key]}."
            fb.update(literal(f"{verdict}\n\n{q.explanation}"
                              + (f"\n\nSource: {q.reference}" if q.reference else "")))
            fb.display = True
        else:
            fb.display = False
        self.query_one("#exam-card", VerticalScroll).scroll_home(animate=False)
        self.update_bar()

    def update_bar(self) -> None:
        assert self.view is not None
        q = self.question
        title = self.view.area_titles.get(q.area, "")
        bits = [f"Question {self.pos + 1} of {len(self.view.questions)}",
                f"Area {q.area}{': ' + title[:28] if title else ''}",
                f"{self.view.answered} answered"]
        if q.marked:
            bits.append("★ marked")
        self.query_one("#exam-progress", Static).update(literal("   ".join(bits)))
        self.tick()

    def tick(self) -> None:
        if self.view is None or self.finished:
            return
        left = self.view.timing.remaining_ms(self.now_ms())
        clock = self.query_one("#exam-clock", Static)
        if left is None:
            clock.update(literal(f"Untimed · {format_clock(self.view.timing.used_ms(self.now_ms()))}"))
            return
        clock.update(literal(f"Time left {format_clock(left)}"))
        # Five minutes before the end (for short quizzes: the last fifth of the time).
        limit = self.view.timing.limit_ms or 0
        warn_at = min(WARN_MS, limit // 5)
        clock.set_class(left <= warn_at, "-warning")
        if left <= warn_at and not self.warned and left > 0:
            self.warned = True
            self.notify(f"{format_clock(left)} left.", title="Time", severity="warning", timeout=8)
        if left <= 0:
            self.submit(auto=True)

    # ---- actions ----------------------------------------------------------------------------
    def action_choose(self, option: int) -> None:
        if self.view is None or option >= len(self.question.options):
            return
        spent = int((time.monotonic() - self.shown_at) * 1000)
        try:
            updated = exam.answer(self.ctx.engine, self.attempt_id, self.pos, option,
                                  self.now_ms(), spent, self.ctx.profile_id, self.ctx.settings)
        except TimeUp:
            self._finished(auto=True)
            return
        except DatabaseError as exc:
            self._storage_error(exc, f"Your answer to question {self.pos + 1} was NOT saved. "
                                     "Answer it again once the problem is fixed.")
            return
        if self.view.mode == "study" and self.question.logged:
            self.notify("Already answered: the answer stands.", timeout=3)
        self.view.questions[self.pos] = updated
        self.show()

    def action_move(self, step: int) -> None:
        assert self.view is not None
        target = self.pos + step
        if 0 <= target < len(self.view.questions):
            self.go(target)
        elif target >= len(self.view.questions):
            self.notify("That was the last question. Press S to submit, or v for the review list.",
                        timeout=4)

    def go(self, position: int) -> None:
        self.pos = position
        try:
            exam.set_current(self.ctx.engine, self.attempt_id, position, self.now_ms())
        except DatabaseError:
            pass  # only where a resume reopens; the answers are what must be saved
        self.show()

    def action_mark(self) -> None:
        assert self.view is not None
        q = self.question
        try:
            exam.set_marked(self.ctx.engine, self.attempt_id, self.pos, not q.marked,
                            self.now_ms())
        except DatabaseError as exc:
            self._storage_error(exc, "The mark was NOT changed. Your answers so far are saved.")
            return
        self.view.questions[self.pos] = _with_mark(q, not q.marked)
        self.update_bar()

    def action_jump(self) -> None:
        assert self.view is not None

        def done(n: int | None) -> None:
            if n is not None:
                self.go(n - 1)

        self.app.push_screen(JumpDialog(len(self.view.questions)), done)

    def action_navigator(self) -> None:
        assert self.view is not None

        def done(n: int | None) -> None:
            if n is not None:
                self.go(n)

        self.app.push_screen(NavigatorDialog(self.view, self.pos), done)

    def action_submit(self) -> None:
        assert self.view is not None
        v = self.view
        parts = []
        if v.unanswered:
            parts.append(f"{v.unanswered} unanswered")
        if v.marked:
            parts.append(f"{v.marked} marked for review")
        detail = ("You have " + " and ".join(parts) + ". ") if parts else "Every question is answered. "

        def done(ok: bool | None) -> None:
            if ok:
                self.submit(auto=False)

        self.app.push_screen(ConfirmDialog("Submit the attempt?", detail + "Submit now (y) or "
                                           "keep working (n)?"), done)

    def submit(self, auto: bool) -> None:
        if self.finished:
            return
        try:
            exam.submit(self.ctx.engine, self.attempt_id, self.now_ms(), self.ctx.settings,
                        auto=auto)
        except DatabaseError as exc:
            # The clock retries an automatic submit every tick: tell the learner once.
            if not (auto and self.submit_failed):
                self._storage_error(exc, "The attempt was NOT submitted. Your answers so far are "
                                         "saved; press S to submit once the problem is fixed "
                                         "(it is also submitted when you resume it).")
            self.submit_failed = True
            return
        self._finished(auto)

    def _storage_error(self, exc: DatabaseError, saved: str) -> None:
        self.app.push_screen(StorageErrorDialog(str(exc), saved))

    def _finished(self, auto: bool) -> None:
        if self.finished:
            return
        self.finished = True
        self.post_message(self.ExamSubmitted(self.attempt_id, auto))
        from cmqprep.ui.screens.results import ResultsScreen

        self.app.switch_screen(ResultsScreen(self.ctx, self.attempt_id, auto_submitted=auto))

    def action_leave(self) -> None:
        try:
            exam.leave(self.ctx.engine, self.attempt_id, self.now_ms())
        except DatabaseError as exc:
            if not self.leave_failed:  # the second Escape leaves anyway
                self.leave_failed = True
                self._storage_error(exc, "Leaving could not be saved (the time used since the "
                                         "last answer). Your answers are saved; press Escape "
                                         "again to leave anyway.")
                return
        self.finished = True
        self.app.pop_screen()
        self.app.notify("Your answers are saved. Resume from the home screen or with --resume.",
                        timeout=5)


def _with_mark(q: QuestionView, marked: bool) -> QuestionView:
    from dataclasses import replace

    return replace(q, marked=marked)

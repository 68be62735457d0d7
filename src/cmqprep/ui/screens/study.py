"""Flashcard study: multiple-choice questions and term cards, rated into FSRS."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from cmqprep.domain.items import LETTERS
from cmqprep.domain.scheduling import STATE_NAMES, Grade
from cmqprep.services.context import AppContext
from cmqprep.services.study import CardView, Recorded, StudySession
from cmqprep.ui.literal import literal
from cmqprep.ui.screens.summary import SummaryDialog

# Which keys make sense in which phase (the footer shows only those).
PHASE_ACTIONS = {
    "question": {"choose", "suspend", "undo", "end"},
    "answered": {"grade", "next", "suspend", "undo", "end"},
    "front": {"reveal", "suspend", "undo", "end"},
    "back": {"grade", "next", "suspend", "undo", "end"},
    "empty": {"undo", "end"},
}


class StudyScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "choose(0)", "Answer", key_display="a-d"),
        Binding("b", "choose(1)", "B", show=False),
        Binding("c", "choose(2)", "C", show=False),
        Binding("d", "choose(3)", "D", show=False),
        Binding("space", "reveal", "Show answer"),
        Binding("1", "grade(1)", "Again"),
        Binding("2", "grade(2)", "Hard"),
        Binding("3", "grade(3)", "Good"),
        Binding("4", "grade(4)", "Easy"),
        Binding("enter", "next", "Next"),
        Binding("u", "undo", "Undo"),
        Binding("s", "suspend", "Suspend"),
        Binding("escape", "end", "End"),
    ]

    class CardAnswered(Message):
        """Posted after an answer has been committed to the review log."""

        def __init__(self, recorded: Recorded) -> None:
            super().__init__()
            self.recorded = recorded

    def __init__(self, ctx: AppContext, area: str | None = None):
        super().__init__()
        self.ctx = ctx
        self.area = area
        self.session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng,
                                    area)
        self.card: CardView | None = None
        self.phase = "empty"
        self.shown_at = time.monotonic()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with VerticalScroll(id="card"):
            yield Static(id="prompt")
            for i in range(4):
                yield Static(classes="option", id=f"opt{i}")
            yield Static(id="verdict")
            yield Static(id="explanation")
            yield Static(id="reference")
            yield Static(id="prompt-line")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.session.next_card())

    # ---- display -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do nothing in the current phase, so the footer lists only live ones."""
        if action not in {"choose", "reveal", "grade", "next", "undo", "suspend", "end"}:
            return True
        if action == "undo":
            return bool(self.session.history)
        if action == "grade" and self.phase == "answered" and self._last_wrong():
            return parameters == (1,)
        return action in PHASE_ACTIONS[self.phase]

    def _last_wrong(self) -> bool:
        return bool(self.session.history) and self.session.history[-1].correct is False

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.refresh_bindings()

    def _status(self) -> None:
        s = self.session.summary
        where = f"Area {self.area}" if self.area else "All areas"
        card = self.card
        state = STATE_NAMES.get(card.state, "") if card else ""
        topic = f"  {card.topic}  ({state})" if card else ""
        acc = f"  {s.correct}/{s.answered_questions} right" if s.answered_questions else ""
        self.query_one("#status", Static).update(literal(
            f"{where}{topic}   studied {s.studied}{acc}"))

    def show(self, card: CardView | None) -> None:
        self.card = card
        self.shown_at = time.monotonic()
        for wid in ("#verdict", "#explanation", "#reference"):
            self.query_one(wid, Static).update("")
        self.query_one("#verdict", Static).set_classes("")
        for i in range(4):
            opt = self.query_one(f"#opt{i}", Static)
            opt.set_classes("option")
            opt.display = False
        prompt = self.query_one("#prompt", Static)
        line = self.query_one("#prompt-line", Static)
        if card is None:
            prompt.update(literal("Nothing more to study right now."))
            line.update(literal("Press Escape to see the summary and return home."))
            self._set_phase("empty")
        elif card.kind == "question":
            prompt.update(literal(card.prompt))
            for i, text in enumerate(card.options):
                opt = self.query_one(f"#opt{i}", Static)
                opt.update(literal(f"{LETTERS[i].lower()})  {text}"))
                opt.display = True
            line.update(literal("Press a, b, c or d to answer."))
            self._set_phase("question")
        else:
            prompt.update(literal(card.prompt))
            line.update(literal("Recall the answer, then press space to check it."))
            self._set_phase("front")
        scroller = self.query_one("#card", VerticalScroll)
        scroller.scroll_home(animate=False)
        scroller.focus()  # up/down and page keys scroll a long explanation
        self._status()

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.shown_at) * 1000)

    # ---- actions ---------------------------------------------------------------------------
    def action_choose(self, position: int) -> None:
        card = self.card
        if self.phase != "question" or card is None or position >= len(card.options):
            return
        rec = self.session.answer_choice(card, position, self._elapsed_ms())
        self.post_message(self.CardAnswered(rec))
        for i in range(len(card.options)):
            opt = self.query_one(f"#opt{i}", Static)
            if i == card.answer:
                opt.add_class("-key")
            elif i == position:
                opt.add_class("-wrong")
        verdict = self.query_one("#verdict", Static)
        key = LETTERS[card.answer].lower()
        if rec.correct:
            verdict.update(literal(f"Right: {key}."))
            verdict.set_classes("-right")
            hint = "Enter or 3: Good   1: Again   2: Hard   4: Easy"
        else:
            verdict.update(literal(f"Not quite: the answer is {key}."))
            verdict.set_classes("-wrong")
            hint = "Rated Again; it comes back soon. Press Enter for the next card."
        self._explain(card)
        self.query_one("#prompt-line", Static).update(literal(hint))
        self._set_phase("answered")
        self._status()

    def _explain(self, card: CardView) -> None:
        self.query_one("#explanation", Static).update(literal(card.explanation))
        if card.reference:
            self.query_one("#reference", Static).update(literal(f"Reference: {card.reference}"))

    def action_reveal(self) -> None:
        if self.phase != "front" or self.card is None:
            return
        self._explain(self.card)
        self.query_one("#prompt-line", Static).update(
            literal("How well did you recall it?  1 Again  2 Hard  3 Good (Enter)  4 Easy"))
        self._set_phase("back")

    def action_grade(self, value: int) -> None:
        grade = Grade(value)
        if self.phase == "answered":
            if self._last_wrong():
                self.show(self.session.next_card())
                return
            rec = self.session.regrade(grade)
            self.post_message(self.CardAnswered(rec))
            self.show(self.session.next_card())
        elif self.phase == "back" and self.card is not None:
            rec = self.session.rate(self.card, grade, self._elapsed_ms())
            self.post_message(self.CardAnswered(rec))
            self.show(self.session.next_card())

    def action_next(self) -> None:
        if self.phase == "answered":
            self.show(self.session.next_card())
        elif self.phase == "back":
            self.action_grade(int(Grade.GOOD))

    def action_undo(self) -> None:
        card = self.session.undo()
        if card is None:
            self.notify("Nothing to undo.")
            return
        self.notify("Last answer undone.")
        self.show(card)

    def action_suspend(self) -> None:
        if self.card is None:
            return
        self.session.suspend(self.card)
        self.notify("Card suspended: it will not come up in study.")
        self.show(self.session.next_card())

    def action_end(self) -> None:
        def back_home(_: None) -> None:
            self.app.pop_screen()

        self.app.push_screen(SummaryDialog(self.session.summary, self.ctx.clock), back_home)

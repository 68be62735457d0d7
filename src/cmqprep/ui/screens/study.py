"""Flashcard study: multiple-choice questions and term cards, rated into FSRS."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from cmqprep.db.engine import DatabaseError
from cmqprep.domain.items import LETTERS
from cmqprep.domain.scheduling import STATE_NAMES, Grade
from cmqprep.services.context import AppContext
from cmqprep.services.study import CardView, Recorded, StudySession
from cmqprep.ui.literal import literal
from cmqprep.ui.screens.storage_error import StorageErrorDialog
from cmqprep.ui.screens.summary import SummaryDialog
from cmqprep.ui.widgets.card_text import Block, CardText
from cmqprep.ui.widgets.keybar import KeyBar

# Which keys make sense in which phase (the key bar shows only those). "stalled": the next
# card could not be read from the database; Enter tries again.
PHASE_ACTIONS = {
    "question": {"choose", "suspend", "undo", "end"},
    "answered": {"grade", "next", "suspend", "undo", "end"},
    "front": {"reveal", "suspend", "undo", "end"},
    "back": {"grade", "next", "suspend", "undo", "end"},
    "empty": {"undo", "end"},
    "stalled": {"next", "undo", "end"},
}

# Styles of the card's parts (theme variables, resolved when the card is drawn).
PROMPT, KEY, WRONG = "bold", "bold $success", "strike $error"
RIGHT_VERDICT, WRONG_VERDICT, MUTED, HINT = "bold $success", "bold $error", "$text-muted", "$accent"


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
        # What the card shows besides the card itself: the option chosen, the verdict line,
        # whether the explanation is visible, and the hint line at the bottom.
        self.chosen: int | None = None
        self.verdict: tuple[str, str] | None = None
        self.revealed = False
        self.hint = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        yield CardText(id="card-text")
        yield KeyBar()

    def on_mount(self) -> None:
        self._text = self.query_one("#card-text", CardText)
        self._status_line = self.query_one("#status", Static)
        self._next_card()

    # ---- display -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do nothing in the current phase, so the key bar lists live ones."""
        if action not in {"choose", "reveal", "grade", "next", "undo", "suspend", "end"}:
            return True
        if action == "undo":
            return bool(self.session.history)
        if action == "grade" and self.phase == "answered" and self._last_wrong():
            return parameters == (1,)
        return action in PHASE_ACTIONS[self.phase]

    def _last_wrong(self) -> bool:
        return bool(self.session.history) and self.session.history[-1].correct is False

    def _set_phase(self, phase: str, hint: str, top: bool = False) -> None:
        self.hint = hint
        self.phase = phase
        self.refresh_bindings()  # the live keys also depend on the undo history
        self._paint(top)

    def blocks(self) -> tuple[Block, ...]:
        """The card as text blocks, from the current card and phase."""
        card = self.card
        out: list[Block] = []
        if card is None:
            text = ("The next card could not be read from the database." if self.phase == "stalled"
                    else "Nothing more to study right now.")
            out.append(Block(literal(text), PROMPT, 1, 0, "prompt"))
        else:
            out.append(Block(literal(card.prompt), PROMPT, 1, 0, "prompt"))
            answered = self.chosen is not None
            for i, text in enumerate(card.options):
                style = ""
                if answered and i == card.answer:
                    style = KEY
                elif answered and i == self.chosen:
                    style = WRONG
                out.append(Block(literal(f"{LETTERS[i].lower()})  {text}"), style,
                                 1 if i == 0 else 0, 2, f"opt{i}"))
            if self.verdict is not None:
                out.append(Block(literal(self.verdict[0]), self.verdict[1], 1, 0, "verdict"))
            if self.revealed:
                out.append(Block(literal(card.explanation), "", 1, 0, "explanation"))
                if card.reference:
                    out.append(Block(literal(f"Reference: {card.reference}"), MUTED, 0, 0,
                                     "reference"))
        if self.hint:
            out.append(Block(literal(self.hint), HINT, 1, 0, "hint"))
        return tuple(out)

    def _paint(self, top: bool) -> None:
        self._text.set_blocks(self.blocks(), top)
        s = self.session.summary
        where = f"Area {self.area}" if self.area else "All areas"
        card = self.card
        state = STATE_NAMES.get(card.state, "") if card else ""
        topic = f"  {card.topic}  ({state})" if card else ""
        acc = f"  {s.correct}/{s.answered_questions} right" if s.answered_questions else ""
        self._status_line.update(literal(f"{where}{topic}   studied {s.studied}{acc}"))

    def show(self, card: CardView | None) -> None:
        self.card = card
        self.shown_at = time.monotonic()
        self.chosen, self.verdict, self.revealed = None, None, False
        if card is None:
            self._set_phase("empty", "Press Escape to see the summary and return home.", True)
        elif card.kind == "question":
            self._set_phase("question", "Press a, b, c or d to answer.", True)
        else:
            self._set_phase("front", "Recall the answer, then press space to check it.", True)
        self._text.focus()  # up/down and page keys scroll a long explanation

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.shown_at) * 1000)

    # ---- the database failing (full disk, read-only file, damage) ---------------------------
    def _storage_error(self, exc: DatabaseError, saved: str) -> None:
        """Tell the learner what was and was not saved; the screen stays usable."""
        self.app.push_screen(StorageErrorDialog(str(exc), saved))

    def _next_card(self) -> None:
        try:
            card = self.session.next_card()
        except DatabaseError as exc:
            saved = ("Your answers so far are saved. The next card could not be read; press "
                     "Enter to try again once the problem is fixed, or Escape to end.")
            self.card, self.chosen, self.verdict, self.revealed = None, None, None, False
            self._set_phase("stalled", "Press Enter to try again, or Escape to end.", True)
            self._storage_error(exc, saved)
            return
        self.show(card)

    # ---- actions ---------------------------------------------------------------------------
    def action_choose(self, position: int) -> None:
        card = self.card
        if self.phase != "question" or card is None or position >= len(card.options):
            return
        try:
            rec = self.session.answer_choice(card, position, self._elapsed_ms())
        except DatabaseError as exc:
            self._storage_error(exc, "Your answer to this card was NOT saved. The card stays "
                                     "on screen: answer it again once the problem is fixed.")
            return
        self.post_message(self.CardAnswered(rec))
        self.chosen = position
        key = LETTERS[card.answer].lower()
        if rec.correct:
            self.verdict = (f"Right: {key}.", RIGHT_VERDICT)
            hint = "Enter or 3: Good   1: Again   2: Hard   4: Easy"
        else:
            self.verdict = (f"Not quite: the answer is {key}.", WRONG_VERDICT)
            hint = "Rated Again; it comes back soon. Press Enter for the next card."
        self.revealed = True
        self._set_phase("answered", hint)

    def action_reveal(self) -> None:
        if self.phase != "front" or self.card is None:
            return
        self.revealed = True
        self._set_phase("back", "How well did you recall it?  1 Again  2 Hard  3 Good (Enter)  "
                                "4 Easy")

    def action_grade(self, value: int) -> None:
        grade = Grade(value)
        if self.phase == "answered":
            if self._last_wrong():
                self._next_card()
                return
            last = self.session.history[-1]
            try:
                rec = self.session.regrade(grade)
            except DatabaseError as exc:
                self._storage_error(exc, f"Your answer is saved, rated {last.grade.name.title()}"
                                         f"; the change to {grade.name.title()} was NOT saved.")
                return
            self.post_message(self.CardAnswered(rec))
            self._next_card()
        elif self.phase == "back" and self.card is not None:
            try:
                rec = self.session.rate(self.card, grade, self._elapsed_ms())
            except DatabaseError as exc:
                self._storage_error(exc, "Your rating of this card was NOT saved. The card "
                                         "stays on screen: rate it again once the problem is "
                                         "fixed.")
                return
            self.post_message(self.CardAnswered(rec))
            self._next_card()

    def action_next(self) -> None:
        if self.phase in ("answered", "stalled"):
            self._next_card()
        elif self.phase == "back":
            self.action_grade(int(Grade.GOOD))

    def action_undo(self) -> None:
        try:
            card = self.session.undo()  # keeps its history intact when the write fails
        except DatabaseError as exc:
            self._storage_error(exc, "Nothing was undone: your last answer is still saved.")
            return
        if card is None:
            self.notify("Nothing to undo.")
            return
        self.notify("Last answer undone.")
        self.show(card)

    def action_suspend(self) -> None:
        if self.card is None:
            return
        try:
            self.session.suspend(self.card)
        except DatabaseError as exc:
            self._storage_error(exc, "The card was NOT suspended; it stays on screen.")
            return
        self.notify("Card suspended: it will not come up in study.")
        self._next_card()

    def action_end(self) -> None:
        def back_home(_: None) -> None:
            self.app.pop_screen()

        self.app.push_screen(SummaryDialog(self.session.summary, self.ctx.clock), back_home)

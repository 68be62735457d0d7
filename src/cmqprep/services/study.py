"""Flashcard study: which card comes next, recording answers, undo and suspend.

Every answer is committed (review log row plus schedule row, one transaction) before the
caller can ask for the next card.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from cmqprep.config import Clock, Settings
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import (
    LEARNING,
    NEW,
    RELEARNING,
    REVIEW,
    Grade,
    Limits,
    SchedState,
    apply_review,
    day_start,
    grade_for_answer,
    next_day_start,
    queue_plan,
    to_ms,
)
from cmqprep.services.schedule_store import state_of, write_state_for
from cmqprep.services.settings_cache import scheduler_config


@dataclass(frozen=True)
class CardView:
    item_id: int
    pack_key: str
    item_key: str
    kind: str
    area: str
    topic: str
    level: str
    prompt: str
    options: tuple[str, ...]  # in display order
    order: tuple[int, ...]  # display position -> index in the pack's option list
    answer: int  # display position of the key; -1 for a term card
    explanation: str  # explanation, or the back of a term card
    reference: str
    state: int  # schedule state before this showing


@dataclass(frozen=True)
class Recorded:
    review_id: str
    card: CardView
    grade: Grade
    correct: bool | None
    before: SchedState
    after: SchedState
    row_existed: bool


@dataclass
class RunSummary:
    studied: int = 0
    correct: int = 0
    answered_questions: int = 0
    started_ms: int = 0
    ended_ms: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered_questions if self.answered_questions else None


def record_review(session: Session, profile_id: int, card: CardView, grade: Grade, at_ms: int,
                  duration_ms: int, source: str, chosen: int | None, correct: bool | None,
                  settings: Settings) -> Recorded:
    """Append one review to the log and apply it to the schedule (inside the caller's session)."""
    row = session.get(ScheduleRow, (profile_id, card.item_id))
    before = state_of(row)
    after = apply_review(before, grade, at_ms, scheduler_config(settings))
    review_id = uuid.uuid4().hex
    session.add(ReviewRow(id=review_id, profile_id=profile_id, pack_key=card.pack_key,
                          item_key=card.item_key, reviewed_ms=at_ms, rating=int(grade),
                          duration_ms=max(0, int(duration_ms)), source=source,
                          state_before=before.state, chosen=chosen, correct=correct))
    write_state_for(session, profile_id, card.item_id, card.area, after, row)
    return Recorded(review_id, card, grade, correct, before, after, row is not None)


class StudySession:
    """One study run for one profile, optionally limited to one BoK area."""

    def __init__(self, engine: Engine, profile_id: int, settings: Settings, clock: Clock,
                 rng: random.Random, area: str | None = None):
        self.engine, self.profile_id, self.settings = engine, profile_id, settings
        self.clock, self.rng, self.area = clock, rng, area
        self.limits = Limits(settings.new_per_day, settings.reviews_per_day)
        self.history: list[Recorded] = []
        self.summary = RunSummary(started_ms=to_ms(clock()))
        self._last_item: int | None = None

    # ---- choosing the next card ---------------------------------------------------------
    def _day_window(self) -> tuple[int, int]:
        now = self.clock()
        tz = self.settings.tz()
        return (to_ms(day_start(now, tz, self.settings.day_start_hour)),
                to_ms(next_day_start(now, tz, self.settings.day_start_hour)))

    def done_today(self, s: Session) -> tuple[int, int]:
        """(new cards introduced, review-state cards reviewed) in study since the day began."""
        start, _ = self._day_window()
        rows = dict(s.execute(
            select(ReviewRow.state_before, func.count()).where(
                ReviewRow.profile_id == self.profile_id, ReviewRow.reviewed_ms >= start,
                ReviewRow.source == "study").group_by(ReviewRow.state_before)).all())
        return rows.get(NEW, 0), rows.get(REVIEW, 0)

    def next_card(self) -> CardView | None:
        now_ms = to_ms(self.clock())
        _, day_end = self._day_window()
        with read_session(self.engine) as s:
            new_done, reviews_done = self.done_today(s)
            for bucket in queue_plan(now_ms, day_end, self.limits, new_done, reviews_done):
                if bucket.remaining <= 0:
                    continue
                ids = self._candidates(s, bucket.kind, bucket.due_before_ms)
                if not ids:
                    continue
                pick = next((i for i in ids if i != self._last_item), ids[0])
                return self._view(s, pick)
        return None

    def _candidates(self, s: Session, kind: str, due_before: int | None) -> list[int]:
        if kind == "new":
            seen = select(ScheduleRow.item_id).where(ScheduleRow.profile_id == self.profile_id,
                                                     ScheduleRow.item_id == ItemRow.id)
            q = select(ItemRow.id).where(ItemRow.retired.is_(False), ~seen.exists())
            if self.area:
                q = q.where(ItemRow.area == self.area)
            return list(s.scalars(q.order_by(ItemRow.position).limit(2)))
        states = (REVIEW,) if kind == "review" else (LEARNING, RELEARNING)
        q = (select(ScheduleRow.item_id)
             .join(ItemRow, and_(ItemRow.id == ScheduleRow.item_id, ItemRow.retired.is_(False)))
             .where(ScheduleRow.profile_id == self.profile_id, ScheduleRow.suspended.is_(False),
                    ScheduleRow.state.in_(states), ScheduleRow.due_ms <= due_before))
        if kind == "missed":
            q = q.where(ScheduleRow.step == 0)
        if self.area:
            q = q.where(ScheduleRow.area == self.area)
        return list(s.scalars(q.order_by(ScheduleRow.due_ms).limit(2)))

    def _view(self, s: Session, item_id: int) -> CardView:
        item = s.get(ItemRow, item_id)
        assert item is not None
        pack_key = s.scalar(select(PackRow.key).where(PackRow.id == item.pack_id))
        sched = s.get(ScheduleRow, (self.profile_id, item_id))
        return make_view(item, pack_key or "", sched.state if sched else NEW, self.rng)

    # ---- answering ----------------------------------------------------------------------
    def answer_choice(self, card: CardView, position: int, duration_ms: int) -> Recorded:
        """Record a multiple-choice answer at once (Again if wrong, Good if right)."""
        correct = position == card.answer
        return self._record(card, grade_for_answer(correct), duration_ms, card.order[position],
                            correct)

    def rate(self, card: CardView, grade: Grade, duration_ms: int) -> Recorded:
        """Record a term card's self-rating."""
        return self._record(card, grade, duration_ms, None, None)

    def regrade(self, grade: Grade) -> Recorded:
        """Change the grade of the answer just given (a right answer confirmed as Hard/Easy)."""
        last = self.history[-1]
        if grade_for_answer(last.correct is not False, grade) != grade:
            raise ValueError("a wrong answer stays rated Again")
        if grade == last.grade:
            return last
        assert last.after.last_review_ms is not None
        after = apply_review(last.before, grade, last.after.last_review_ms,
                             scheduler_config(self.settings))
        with write_session(self.engine) as s:
            review = s.get(ReviewRow, last.review_id)
            assert review is not None
            review.rating = int(grade)
            row = s.get(ScheduleRow, (self.profile_id, last.card.item_id))
            write_state_for(s, self.profile_id, last.card.item_id, last.card.area, after, row)
        updated = Recorded(last.review_id, last.card, grade, last.correct, last.before, after,
                           last.row_existed)
        self.history[-1] = updated
        return updated

    def _record(self, card: CardView, grade: Grade, duration_ms: int, chosen: int | None,
                correct: bool | None) -> Recorded:
        now_ms = to_ms(self.clock())
        with write_session(self.engine) as s:
            rec = record_review(s, self.profile_id, card, grade, now_ms, duration_ms, "study",
                                chosen, correct, self.settings)
        self.history.append(rec)
        self._last_item = card.item_id
        self.summary.studied += 1
        if correct is not None:
            self.summary.answered_questions += 1
            self.summary.correct += int(correct)
        self.summary.ended_ms = now_ms
        return rec

    def undo(self) -> CardView | None:
        """Take back the last answer of this run: its review leaves the log and the schedule
        returns to what it was. Returns the card to show again, or None if nothing to undo."""
        if not self.history:
            return None
        last = self.history.pop()
        with write_session(self.engine) as s:
            review = s.get(ReviewRow, last.review_id)
            if review is not None:
                s.delete(review)
            row = s.get(ScheduleRow, (self.profile_id, last.card.item_id))
            if not last.row_existed and row is not None and not (row.suspended or row.flagged):
                s.delete(row)
            else:
                write_state_for(s, self.profile_id, last.card.item_id, last.card.area,
                                last.before, row)
        self.summary.studied -= 1
        if last.correct is not None:
            self.summary.answered_questions -= 1
            self.summary.correct -= int(last.correct)
        self._last_item = None
        return last.card

    def suspend(self, card: CardView) -> None:
        """Hide a card from study until it is unsuspended (its history is kept)."""
        with write_session(self.engine) as s:
            row = s.get(ScheduleRow, (self.profile_id, card.item_id))
            if row is None:
                row = write_state_for(s, self.profile_id, card.item_id, card.area, SchedState(), None)
            row.suspended = True
        self._last_item = card.item_id


def make_view(item: ItemRow, pack_key: str, state: int, rng: random.Random) -> CardView:
    """A showing of an item; a question's options are shuffled for this showing."""
    options = tuple(json.loads(item.options)) if item.kind == "question" else ()
    order = list(range(len(options)))
    rng.shuffle(order)
    shown = tuple(options[i] for i in order)
    answer = order.index(item.answer) if item.kind == "question" else -1
    return CardView(item.id, pack_key, item.key, item.kind, item.area, item.topic, item.level,
                    item.prompt, shown, tuple(order), answer, item.explanation, item.reference,
                    state)

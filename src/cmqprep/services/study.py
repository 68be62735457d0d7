"""Flashcard study: which card comes next, recording answers, undo and suspend.

Every answer is committed (review log row plus schedule row, one transaction) before the
caller can ask for the next card. The study loop runs prepared Core statements (study_queries)
and keeps per-run caches (the study day and its counts, pack keys, the new-card cursor) that
are updated by each answer and undo; see docs/performance.md.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, Row, func, select
from sqlalchemy.orm import Session

from cmqprep.config import Clock, Settings
from cmqprep.db.engine import write_session
from cmqprep.db.models import ItemRow, ReviewRow, ScheduleRow
from cmqprep.db.prepared import Cursor, transaction
from cmqprep.domain.scheduling import (
    NEW,
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
from cmqprep.services import study_queries as sq
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
    values = review_values(profile_id, card, grade, at_ms, duration_ms, source, before.state,
                           chosen, correct)
    session.add(ReviewRow(**values))
    write_state_for(session, profile_id, card.item_id, card.area, after, row)
    return Recorded(values["id"], card, grade, correct, before, after, row is not None)


def review_values(profile_id: int, card: CardView, grade: Grade, at_ms: int, duration_ms: int,
                  source: str, state_before: int, chosen: int | None,
                  correct: bool | None) -> dict:
    """The review log row for one answer (a new globally unique id each call)."""
    return dict(id=uuid.uuid4().hex, profile_id=profile_id, pack_key=card.pack_key,
                item_key=card.item_key, reviewed_ms=at_ms, rating=int(grade),
                duration_ms=max(0, int(duration_ms)), source=source, state_before=state_before,
                chosen=chosen, correct=correct)


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
        self._sql = sq.for_dialect(engine.dialect)
        # Per-run caches. The study day and what was done in it are read once per day and then
        # kept up to date by each answer and undo of this run.
        self._day: tuple[int, int] | None = None
        self._done: dict[int, int] | None = None  # state_before -> study reviews this day
        self._pack_keys: dict[int, str] = {}
        # Every live item before this position had a schedule row when last looked at; only
        # an undo in this run can make one new again (and moves the cursor back).
        self._new_from = -1
        self._new_positions: dict[int, int] = {}

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

    def _window(self, now_ms: int) -> tuple[int, int]:
        if self._day is None or not self._day[0] <= now_ms < self._day[1]:
            self._day = self._day_window()
            self._done = None  # a new study day: count again
        return self._day

    def next_card(self) -> CardView | None:
        now_ms = to_ms(self.clock())
        start, day_end = self._window(now_ms)
        with transaction(self.engine) as cur:
            if self._done is None:
                new, review = cur.first(self._sql.done_today,
                                        {"pid": self.profile_id, "start": start})
                self._done = {NEW: new or 0, REVIEW: review or 0}
            plan = queue_plan(now_ms, day_end, self.limits, self._done.get(NEW, 0),
                              self._done.get(REVIEW, 0))
            for bucket in plan:
                if bucket.remaining <= 0:
                    continue
                rows = self._candidates(cur, bucket.kind, bucket.due_before_ms)
                if not rows:
                    continue
                pick = next((r for r in rows if r.id != self._last_item), rows[0])
                if bucket.kind == "new":
                    self._new_from = rows[0].position
                    self._new_positions[pick.id] = pick.position
                return self._view(cur, pick.id, pick.state)
        return None

    def _candidates(self, cur: Cursor, kind: str, due_before: int | None) -> list[Row]:
        params: dict[str, object] = {"pid": self.profile_id, "area": self.area}
        if kind == "new":
            params["from_pos"] = self._new_from
        else:
            params["before"] = due_before
        return cur.rows(self._sql.candidates[kind, self.area is not None], params)

    def _view(self, cur: Cursor, item_id: int, state: int | None) -> CardView:
        row = cur.first(self._sql.card, {"iid": item_id})
        key = self._pack_keys.get(row.pack_id)
        if key is None:
            self._pack_keys = {r.id: r.key for r in cur.rows(self._sql.pack_keys)}
            key = self._pack_keys.get(row.pack_id, "")
        return make_view(row, key, NEW if state is None else state, self.rng)

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
        pid, iid = self.profile_id, card.item_id
        sql = self._sql
        with transaction(self.engine, write=True) as cur:  # committed when the block ends
            row = cur.first(sql.state_by_key, {"pid": pid, "iid": iid})
            before = SchedState(*row) if row is not None else SchedState()
            after = apply_review(before, grade, now_ms, scheduler_config(self.settings))
            values = review_values(pid, card, grade, now_ms, duration_ms, "study", before.state,
                                   chosen, correct)
            cur.run(sql.insert_review, values)
            if row is None:
                cur.run(sql.insert_state, {"profile_id": pid, "item_id": iid, "area": card.area,
                                           "suspended": False, "buried_until_ms": None,
                                           "flagged": False, **vars(after)})
            else:
                cur.run(sql.update_state, {"k_pid": pid, "k_iid": iid,
                                           **{f"v_{k}": v for k, v in vars(after).items()}})
        rec = Recorded(values["id"], card, grade, correct, before, after, row is not None)
        self._count(before.state, now_ms, +1)
        self.history.append(rec)
        self._last_item = card.item_id
        self.summary.studied += 1
        if correct is not None:
            self.summary.answered_questions += 1
            self.summary.correct += int(correct)
        self.summary.ended_ms = now_ms
        return rec

    def _count(self, state_before: int, at_ms: int, delta: int) -> None:
        """Keep the cached per-day counts equal to what done_today() would read now."""
        if self._done is not None and self._day is not None and at_ms >= self._day[0]:
            self._done[state_before] = self._done.get(state_before, 0) + delta

    def undo(self) -> CardView | None:
        """Take back the last answer of this run: its review leaves the log and the schedule
        returns to what it was. Returns the card to show again, or None if nothing to undo."""
        if not self.history:
            return None
        # Popped only once the write has committed: a failed write (full disk) leaves the
        # run exactly as it was, so the learner can try again.
        last = self.history[-1]
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
        self.history.pop()
        assert last.after.last_review_ms is not None
        self._count(last.before.state, last.after.last_review_ms, -1)
        if last.before.state == NEW:
            # the item is new again: let the new-card scan reach it
            self._new_from = min(self._new_from,
                                 self._new_positions.get(last.card.item_id, -1))
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


def make_view(item: ItemRow | Row, pack_key: str, state: int, rng: random.Random) -> CardView:
    """A showing of an item; a question's options are shuffled for this showing."""
    options = tuple(json.loads(item.options)) if item.kind == "question" else ()
    order = list(range(len(options)))
    rng.shuffle(order)
    shown = tuple(options[i] for i in order)
    answer = order.index(item.answer) if item.kind == "question" else -1
    return CardView(item.id, pack_key, item.key, item.kind, item.area, item.topic, item.level,
                    item.prompt, shown, tuple(order), answer, item.explanation, item.reference,
                    state)

"""Quizzes and mock exams: start (blueprint draw), answer, mark, leave/resume, submit, results.

Every answer and mark is committed the moment it is given, so an attempt survives a crash and
can be resumed. How attempts feed flashcard scheduling (docs/quizzes.md):
- each answered question becomes one review in the log with source "quiz" or "exam": Good if
  right, Again if wrong (unanswered questions leave no review);
- in study mode the review is written when the answer is given (the learner sees the key then);
  in exam mode answers may change until submission, so the reviews are written at submission,
  timed at the submission instant (when the learner first sees the key);
- Again puts the card in (re)learning with a due time minutes away, so a question answered wrong
  anywhere comes due in flashcard study the same day.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from cmqprep.config import Settings
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import (
    AreaRow,
    AttemptQuestionRow,
    AttemptRow,
    ItemRow,
    PackRow,
    ReviewRow,
    ScheduleRow,
)
from cmqprep.domain.exam import (
    SECONDS_PER_QUESTION,
    AnswerFact,
    Candidate,
    DrawError,
    Score,
    Timing,
    blueprint_shortfall,
    draw,
    proportional_counts,
    score,
)
from cmqprep.domain.scheduling import NEW, grade_for_answer
from cmqprep.services.study import CardView, record_review

BANK_PACK = "cmqoe"


class AttemptError(Exception):
    """An attempt cannot do what was asked (closed, unknown, ...); the message says why."""


@dataclass(frozen=True)
class QuizSpec:
    kind: str = "quiz"  # quiz | exam
    mode: str = "study"  # study: feedback after each answer; exam: all feedback at the end
    questions: int | None = 20  # None for a full exam: the blueprint's length
    areas: tuple[str, ...] = ()  # empty: every area
    minutes: float | None = None  # None: the default pace; 0: untimed
    clock_runs: bool = True  # False: the clock pauses while the learner is away
    items: tuple[int, ...] = ()  # explicit item ids (a retake)
    retake_of: str | None = None
    title: str = ""


@dataclass(frozen=True)
class QuestionView:
    position: int
    item_id: int
    pack_key: str
    item_key: str
    area: str
    topic: str
    level: str
    scored: bool
    prompt: str
    options: tuple[str, ...]  # display order
    order: tuple[int, ...]  # display position -> option index in the pack
    key: int  # display position of the key
    explanation: str
    reference: str
    chosen: int | None  # display position chosen, None if unanswered
    marked: bool
    logged: bool  # a review has been written for this answer

    @property
    def answered(self) -> bool:
        return self.chosen is not None

    @property
    def correct(self) -> bool:
        return self.chosen is not None and self.chosen == self.key


@dataclass
class AttemptView:
    id: str
    kind: str
    mode: str
    title: str
    timing: Timing
    current: int
    submitted_ms: int | None
    auto_submitted: bool
    questions: list[QuestionView]
    area_titles: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return sum(q.answered for q in self.questions)

    @property
    def unanswered(self) -> int:
        return len(self.questions) - self.answered

    @property
    def marked(self) -> int:
        return sum(q.marked for q in self.questions)

    def score(self) -> Score:
        facts = [AnswerFact(q.area, q.scored, q.chosen, q.key, q.marked) for q in self.questions]
        return score(facts, list(self.area_titles))


@dataclass(frozen=True)
class AttemptResult:
    id: str
    kind: str
    mode: str
    title: str
    started_ms: int
    submitted_ms: int
    used_ms: int
    correct: int
    scored: int
    per_area: dict[str, tuple[int, int]]  # code -> (correct, total)

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.scored if self.scored else 0.0

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "mode": self.mode, "title": self.title,
                "started_ms": self.started_ms, "submitted_ms": self.submitted_ms,
                "used_ms": self.used_ms, "correct": self.correct, "scored": self.scored,
                "percent": round(self.percent, 1),
                "areas": {k: {"correct": c, "total": t} for k, (c, t) in self.per_area.items()}}


# ---- starting -------------------------------------------------------------------------------
def _blueprint(s: Session) -> tuple[PackRow | None, list[AreaRow]]:
    """The blueprint to draw by: the bundled bank's, else the pack with the longest exam."""
    packs = list(s.scalars(select(PackRow).order_by(PackRow.exam_scored.desc(), PackRow.id)))
    pack = next((p for p in packs if p.key == BANK_PACK), packs[0] if packs else None)
    if pack is None:
        return None, []
    areas = list(s.scalars(select(AreaRow).where(AreaRow.pack_id == pack.id)
                           .order_by(AreaRow.position)))
    return pack, areas


def _candidates(s: Session, profile_id: int, areas: Sequence[str]) -> list[Candidate]:
    wrong = func.sum(case((ReviewRow.correct.is_(False), 1), else_=0))
    q = (select(ItemRow.id, ItemRow.area, func.count(ReviewRow.id), wrong)
         .join(PackRow, PackRow.id == ItemRow.pack_id)
         .outerjoin(ReviewRow, (ReviewRow.profile_id == profile_id)
                    & (ReviewRow.pack_key == PackRow.key) & (ReviewRow.item_key == ItemRow.key))
         .where(ItemRow.kind == "question", ItemRow.retired.is_(False), ItemRow.area.in_(areas))
         .group_by(ItemRow.id, ItemRow.area))
    return [Candidate(i, a, n, w or 0) for i, a, n, w in s.execute(q)]


def _last_exam_items(s: Session, profile_id: int) -> set[int]:
    last = s.scalar(select(AttemptRow.id).where(AttemptRow.profile_id == profile_id,
                                                AttemptRow.kind == "exam")
                    .order_by(AttemptRow.started_ms.desc()).limit(1))
    if last is None:
        return set()
    return set(s.scalars(select(AttemptQuestionRow.item_id)
                         .where(AttemptQuestionRow.attempt_id == last)))


def exam_capacity(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """(questions the blueprint needs per area, questions the bank has per area)."""
    with read_session(engine) as s:
        _, areas = _blueprint(s)
        have = dict(s.execute(select(ItemRow.area, func.count()).where(
            ItemRow.kind == "question", ItemRow.retired.is_(False)).group_by(ItemRow.area)).all())
    return {a.code: a.scored for a in areas}, {a.code: have.get(a.code, 0) for a in areas}


def start_attempt(engine: Engine, profile_id: int, spec: QuizSpec, now_ms: int,
                  rng: random.Random) -> str:
    """Draw the questions and store the attempt; returns its id. Raises DrawError."""
    with write_session(engine) as s:
        pack, area_rows = _blueprint(s)
        if pack is None:
            raise DrawError("no question pack is installed")
        codes = [a.code for a in area_rows]
        chosen = list(spec.areas) or codes
        unknown = [a for a in chosen if a not in codes]
        if unknown:
            raise DrawError(f"unknown area {', '.join(unknown)}; areas are {', '.join(codes)}")
        weights = {a.code: a.scored for a in area_rows if a.code in chosen}
        unscored_ids: tuple[int, ...] = ()
        if spec.items:
            known = set(s.scalars(select(ItemRow.id).where(ItemRow.id.in_(spec.items),
                                                           ItemRow.retired.is_(False))))
            order = [i for i in spec.items if i in known]
            if not order:
                raise DrawError("none of those questions is in the bank any more")
            rng.shuffle(order)
            n_questions = len(order)
        else:
            cands = _candidates(s, profile_id, chosen)
            available = {a: 0 for a in weights}
            for c in cands:
                available[c.area] += 1
            avoid: set[int] = set()
            if spec.kind == "exam":
                avoid = _last_exam_items(s, profile_id)
            if spec.kind == "exam" and spec.questions is None:
                counts = dict(weights)
                short = blueprint_shortfall(counts, available)
                if short:
                    raise DrawError(_too_small_message(counts, available, short))
                spare = sum(available.values()) - sum(counts.values())
                extra = pack.exam_unscored if spare >= pack.exam_unscored else 0
            else:
                want = spec.questions or 20
                counts = proportional_counts(weights, available, want)
                extra = 0
                if not sum(counts.values()):
                    raise DrawError("there are no questions in " + (
                        "area " + ", ".join(chosen) if spec.areas else "the bank"))
            d = draw(cands, counts, rng, unscored=extra, avoid=avoid)
            order, unscored_ids = list(d.order), d.unscored
            n_questions = len(order)
        limit_ms = _limit_ms(spec, pack, n_questions)
        attempt_id = uuid.uuid4().hex
        s.add(AttemptRow(id=attempt_id, profile_id=profile_id, kind=spec.kind, mode=spec.mode,
                         title=spec.title or _title(spec, n_questions), areas=json.dumps(chosen),
                         started_ms=now_ms, limit_ms=limit_ms, clock_runs=spec.clock_runs,
                         spent_ms=0, resumed_ms=now_ms, current=0, auto_submitted=False,
                         retake_of=spec.retake_of))
        s.flush()
        items = {i.id: i for i in s.scalars(select(ItemRow).where(ItemRow.id.in_(order)))}
        unscored_set = set(unscored_ids)
        for pos, item_id in enumerate(order):
            n_opts = len(json.loads(items[item_id].options))
            shuffle = list(range(n_opts))
            rng.shuffle(shuffle)
            s.add(AttemptQuestionRow(attempt_id=attempt_id, position=pos, item_id=item_id,
                                     area=items[item_id].area, scored=item_id not in unscored_set,
                                     option_order=json.dumps(shuffle), duration_ms=0,
                                     marked=False))
    return attempt_id


def _too_small_message(counts: dict[str, int], available: dict[str, int],
                       short: dict[str, int]) -> str:
    parts = [f"area {a} has {available.get(a, 0)} of the {counts[a]} it needs"
             for a in sorted(short)]
    return ("the bank is too small for a full mock exam: " + "; ".join(parts)
            + ". Take a shorter exam in the same proportions with --questions N.")


def _limit_ms(spec: QuizSpec, pack: PackRow, n: int) -> int | None:
    if spec.minutes == 0:
        return None
    if spec.minutes is not None:
        return int(spec.minutes * 60_000)
    if spec.kind == "exam" and spec.questions is None and pack.exam_minutes:
        return pack.exam_minutes * 60_000
    total = pack.exam_scored + pack.exam_unscored
    per_q = pack.exam_minutes * 60 / total if total and pack.exam_minutes else SECONDS_PER_QUESTION
    return int(round(n * per_q)) * 1000


def _title(spec: QuizSpec, n: int) -> str:
    what = "Mock exam" if spec.kind == "exam" else ("Retake" if spec.items else "Quiz")
    where = f" on {', '.join(spec.areas)}" if spec.areas else ""
    return f"{what}: {n} questions{where}"


# ---- reading --------------------------------------------------------------------------------
def load_attempt(engine: Engine, attempt_id: str) -> AttemptView:
    with read_session(engine) as s:
        return _load(s, attempt_id)


def _load(s: Session, attempt_id: str) -> AttemptView:
    a = s.get(AttemptRow, attempt_id)
    if a is None:
        raise AttemptError(f"no attempt {attempt_id!r}")
    rows = s.execute(
        select(AttemptQuestionRow, ItemRow, PackRow.key)
        .join(ItemRow, ItemRow.id == AttemptQuestionRow.item_id)
        .join(PackRow, PackRow.id == ItemRow.pack_id)
        .where(AttemptQuestionRow.attempt_id == attempt_id)
        .order_by(AttemptQuestionRow.position)).all()
    questions = []
    for aq, item, pack_key in rows:
        opts = json.loads(item.options)
        order = tuple(json.loads(aq.option_order))
        questions.append(QuestionView(
            aq.position, item.id, pack_key, item.key, aq.area, item.topic, item.level, aq.scored,
            item.prompt, tuple(opts[i] for i in order), order, order.index(item.answer),
            item.explanation, item.reference,
            order.index(aq.chosen) if aq.chosen is not None else None, aq.marked,
            aq.review_id is not None))
    _, area_rows = _blueprint(s)
    titles = {r.code: r.title for r in area_rows}
    timing = _timing(a)
    return AttemptView(a.id, a.kind, a.mode, a.title, timing, a.current, a.submitted_ms,
                       a.auto_submitted, questions, titles)


def in_progress(engine: Engine, profile_id: int, kind: str | None = None) -> str | None:
    """The newest attempt not yet submitted (of one kind, if given)."""
    from cmqprep.services.attempt_status import unfinished

    found = unfinished(engine, profile_id, kind)
    return found.id if found else None


# ---- answering ------------------------------------------------------------------------------
def _open_row(s: Session, attempt_id: str) -> AttemptRow:
    a = s.get(AttemptRow, attempt_id)
    if a is None:
        raise AttemptError(f"no attempt {attempt_id!r}")
    if a.submitted_ms is not None:
        raise AttemptError("this attempt has been submitted")
    return a


def _touch(a: AttemptRow, now_ms: int) -> None:
    """Save the time used so far (matters only for a clock that pauses while away)."""
    t = _timing(a).checkpoint(now_ms)
    a.spent_ms, a.resumed_ms = t.spent_ms, t.resumed_ms


def _expired(a: AttemptRow, now_ms: int) -> bool:
    return _timing(a).expired(now_ms)


class TimeUp(AttemptError):
    """The time ran out before this action; the attempt has been submitted."""


def answer(engine: Engine, attempt_id: str, position: int, display_choice: int, now_ms: int,
           duration_ms: int, profile_id: int, settings: Settings) -> QuestionView:
    """Store an answer. Study mode: final, logged at once. Exam mode: may change until submit."""
    with write_session(engine) as s:
        a = _open_row(s, attempt_id)
        expired = _expired(a, now_ms)
        if expired:  # commit the submission, then tell the caller
            _submit(s, a, now_ms, settings, auto=True)
    if expired:
        raise TimeUp("time is up: the attempt was submitted")
    with write_session(engine) as s:
        a = _open_row(s, attempt_id)
        aq = s.get(AttemptQuestionRow, (attempt_id, position))
        if aq is None:
            raise AttemptError(f"no question {position + 1} in this attempt")
        order = json.loads(aq.option_order)
        if not 0 <= display_choice < len(order):
            raise AttemptError("no such option")
        if aq.review_id is None:  # a logged (study-mode) answer is final
            item = s.get(ItemRow, aq.item_id)
            assert item is not None
            aq.chosen = order[display_choice]
            aq.answered_ms = now_ms
            aq.duration_ms += max(0, int(duration_ms))
            aq.correct = aq.chosen == item.answer
            if a.mode == "study":
                aq.review_id = _log(s, a, aq, item, now_ms, settings)
        a.current = position
        _touch(a, now_ms)
        s.flush()
        return _load(s, attempt_id).questions[position]


def _log(s: Session, a: AttemptRow, aq: AttemptQuestionRow, item: ItemRow, at_ms: int,
         settings: Settings) -> str:
    pack_key = s.scalar(select(PackRow.key).where(PackRow.id == item.pack_id)) or ""
    sched = s.get(ScheduleRow, (a.profile_id, item.id))
    card = CardView(item.id, pack_key, item.key, item.kind, item.area, item.topic, item.level,
                    item.prompt, (), (), -1, item.explanation, item.reference,
                    sched.state if sched else NEW)
    correct = bool(aq.correct)
    rec = record_review(s, a.profile_id, card, grade_for_answer(correct), at_ms, aq.duration_ms,
                        a.kind, aq.chosen, correct, settings)
    return rec.review_id


def set_marked(engine: Engine, attempt_id: str, position: int, marked: bool, now_ms: int) -> None:
    with write_session(engine) as s:
        a = _open_row(s, attempt_id)
        aq = s.get(AttemptQuestionRow, (attempt_id, position))
        if aq is None:
            raise AttemptError(f"no question {position + 1} in this attempt")
        aq.marked = marked
        a.current = position
        _touch(a, now_ms)


def set_current(engine: Engine, attempt_id: str, position: int, now_ms: int) -> None:
    with write_session(engine) as s:
        a = _open_row(s, attempt_id)
        a.current = position
        _touch(a, now_ms)


def leave(engine: Engine, attempt_id: str, now_ms: int) -> None:
    """The learner steps away: a pausing clock stops here."""
    with write_session(engine) as s:
        a = s.get(AttemptRow, attempt_id)
        if a is not None and a.submitted_ms is None:
            _touch(a, now_ms)


def resume(engine: Engine, attempt_id: str, now_ms: int, settings: Settings) -> AttemptView:
    """Continue an attempt; a pausing clock restarts now. One whose time ran out is submitted."""
    with write_session(engine) as s:
        a = s.get(AttemptRow, attempt_id)
        if a is None:
            raise AttemptError(f"no attempt {attempt_id!r}")
        if a.submitted_ms is None:
            if not a.clock_runs:
                a.resumed_ms = now_ms
            elif _expired(a, now_ms):
                _submit(s, a, now_ms, settings, auto=True)
        s.flush()
        return _load(s, attempt_id)


# ---- submitting and results -----------------------------------------------------------------
def submit(engine: Engine, attempt_id: str, now_ms: int, settings: Settings,
           auto: bool = False) -> AttemptView:
    with write_session(engine) as s:
        a = s.get(AttemptRow, attempt_id)
        if a is None:
            raise AttemptError(f"no attempt {attempt_id!r}")
        if a.submitted_ms is None:
            _submit(s, a, now_ms, settings, auto)
        s.flush()
        return _load(s, attempt_id)


def _submit(s: Session, a: AttemptRow, now_ms: int, settings: Settings, auto: bool) -> None:
    timing = _timing(a)
    at = now_ms
    if auto and a.limit_ms is not None and a.clock_runs:
        at = min(now_ms, a.started_ms + a.limit_ms)  # the moment the time ran out
    else:
        _touch(a, now_ms)
    rows = list(s.scalars(select(AttemptQuestionRow).where(AttemptQuestionRow.attempt_id == a.id)
                          .order_by(AttemptQuestionRow.position)))
    items = {i.id: i for i in s.scalars(select(ItemRow).where(
        ItemRow.id.in_([r.item_id for r in rows])))}
    correct = scored = 0
    for aq in rows:
        if aq.chosen is not None and aq.review_id is None:
            aq.correct = aq.chosen == items[aq.item_id].answer
            aq.review_id = _log(s, a, aq, items[aq.item_id], at, settings)
        if aq.scored:
            scored += 1
            correct += int(bool(aq.correct) and aq.chosen is not None)
    a.submitted_ms = at
    a.auto_submitted = auto
    a.correct, a.scored = correct, scored
    if auto and not a.clock_runs and a.limit_ms is not None:
        a.spent_ms = min(timing.used_ms(now_ms), a.limit_ms)


def _timing(a: AttemptRow) -> Timing:
    return Timing(a.started_ms, a.limit_ms, a.clock_runs, a.spent_ms, a.resumed_ms)


def _time_used(timing: Timing, submitted_ms: int | None) -> int:
    """Time an attempt used: up to submission (or the last save), never beyond its limit."""
    end = submitted_ms if submitted_ms is not None else timing.resumed_ms
    used = timing.used_ms(end) if timing.clock_runs else timing.spent_ms
    return used if timing.limit_ms is None else min(used, timing.limit_ms)


def used_ms(view: AttemptView) -> int:
    return _time_used(view.timing, view.submitted_ms)


def attempt_history(engine: Engine, profile_id: int) -> list[AttemptResult]:
    """Submitted attempts, oldest first, with per-area scores of their scored questions."""
    with read_session(engine) as s:
        attempts = list(s.scalars(select(AttemptRow).where(
            AttemptRow.profile_id == profile_id, AttemptRow.submitted_ms.is_not(None))
            .order_by(AttemptRow.started_ms)))
        per: dict[str, dict[str, tuple[int, int]]] = {}
        q = (select(AttemptQuestionRow.attempt_id, AttemptQuestionRow.area,
                    func.sum(case((AttemptQuestionRow.correct.is_(True)
                                   & AttemptQuestionRow.chosen.is_not(None), 1), else_=0)),
                    func.count())
             .join(AttemptRow, AttemptRow.id == AttemptQuestionRow.attempt_id)
             .where(AttemptRow.profile_id == profile_id, AttemptQuestionRow.scored.is_(True))
             .group_by(AttemptQuestionRow.attempt_id, AttemptQuestionRow.area))
        for aid, area, c, t in s.execute(q):
            per.setdefault(aid, {})[area] = (int(c or 0), int(t))
        out = []
        for a in attempts:
            assert a.submitted_ms is not None
            out.append(AttemptResult(a.id, a.kind, a.mode, a.title, a.started_ms, a.submitted_ms,
                                     _time_used(_timing(a), a.submitted_ms), a.correct or 0, a.scored or 0,
                                     dict(sorted(per.get(a.id, {}).items()))))
        return out


def missed_items(view: AttemptView) -> tuple[int, ...]:
    """Questions answered wrong or left unanswered, in the order they were shown."""
    return tuple(q.item_id for q in view.questions if not q.correct)


def retake_spec(view: AttemptView) -> QuizSpec:
    items = missed_items(view)
    return QuizSpec(kind="quiz", mode="study", questions=len(items), items=items,
                    retake_of=view.id, title=f"Retake: {len(items)} missed in {view.title}")

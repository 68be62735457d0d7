"""The FSRS boundary: ratings, schedule state, day rollover and the study queue rules.

The `fsrs` package computes one review step; everything around it (new-card and review limits,
the study day, which card comes next) lives here. All instants are timezone-aware UTC datetimes
or integer epoch milliseconds (UTC); nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import IntEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cmqprep.domain.fsrs_fast import FsrsStep

if TYPE_CHECKING:  # fsrs is imported on first use: the launch path (home screen) never needs it
    from fsrs import Scheduler

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}
MS_PER_DAY = 86_400_000


class Grade(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


def grade_for_answer(correct: bool, confirmed: Grade | None = None) -> Grade:
    """Rating for a multiple-choice answer: a wrong pick is Again; a right one is what the
    learner confirms (Good when they just press Enter)."""
    if not correct:
        return Grade.AGAIN
    return confirmed or Grade.GOOD


def to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware UTC instants")
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


@dataclass(frozen=True)
class SchedState:
    """Per profile and item: the FSRS memory state plus counters. A new item is NEW with no due."""

    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due_ms: int | None = None
    last_review_ms: int | None = None
    reps: int = 0
    lapses: int = 0


@dataclass(frozen=True)
class SchedulerConfig:
    desired_retention: float = 0.9
    learning_steps_min: tuple[float, ...] = (1.0, 10.0)
    relearning_steps_min: tuple[float, ...] = (10.0,)
    maximum_interval_days: int = 36500
    # Start of the study day before the exam (see exam_cap_ms): items not yet well learned are
    # never scheduled past it, so they get one more review before the exam. None: no exam date.
    exam_cap_ms: int | None = None


WELL_LEARNED_STABILITY_DAYS = 21.0
"""Well learned (also "mastered" in the statistics): in review with a stability of three weeks
or more, so predicted recall stays at 90% or above for three weeks after a review."""


def well_learned(state: int, stability: float | None) -> bool:
    return state == REVIEW and stability is not None and stability >= WELL_LEARNED_STABILITY_DAYS


def exam_cap_ms(exam: date, tz: tzinfo, day_start_hour: int) -> int:
    """The instant the study day before the exam day begins (in UTC epoch ms)."""
    eve = datetime.combine(exam - timedelta(days=1), time(day_start_hour), tzinfo=tz)
    return to_ms(eve.astimezone(timezone.utc))


def _scheduler(cfg: SchedulerConfig) -> Scheduler:
    # The exam cap is applied around fsrs, so it must not multiply the cached schedulers.
    return _fsrs_scheduler(cfg if cfg.exam_cap_ms is None else replace(cfg, exam_cap_ms=None))


@lru_cache(maxsize=8)
def _fsrs_scheduler(cfg: SchedulerConfig) -> Scheduler:
    # Fuzzing stays off: replaying a review log must reproduce the schedule exactly, which is
    # what rebuilding state and merging progress from another machine rely on.
    from fsrs import Scheduler

    return Scheduler(
        desired_retention=cfg.desired_retention,
        learning_steps=tuple(timedelta(minutes=m) for m in cfg.learning_steps_min),
        relearning_steps=tuple(timedelta(minutes=m) for m in cfg.relearning_steps_min),
        maximum_interval=cfg.maximum_interval_days,
        enable_fuzzing=False,
    )


@lru_cache(maxsize=8)
def _fast_step(cfg: SchedulerConfig) -> FsrsStep:
    """The pure-float FSRS step for these settings; the fsrs package supplies the parameters."""
    sched = _scheduler(cfg)
    return FsrsStep(sched.parameters, cfg.desired_retention, cfg.learning_steps_min,
                    cfg.relearning_steps_min, cfg.maximum_interval_days)


def _step_fn(cfg: SchedulerConfig) -> FsrsStep:
    return _fast_step(cfg if cfg.exam_cap_ms is None else replace(cfg, exam_cap_ms=None))


def apply_review(s: SchedState, grade: Grade, at_ms: int,
                 cfg: SchedulerConfig = SchedulerConfig()) -> SchedState:
    """One FSRS step: the state after reviewing with `grade` at `at_ms`.

    With `cfg.exam_cap_ms` set, the due date of an item not yet well learned is capped there.
    The step is domain/fsrs_fast.py: the same results as fsrs' Scheduler.review_card (fuzzing
    off), without building its objects."""
    r = int(grade)
    if s.state == NEW:
        state, step, st, d, due_ms = _step_fn(cfg).review(LEARNING, 0, None, None, None, r, at_ms)
    else:
        state, step, st, d, due_ms = _step_fn(cfg).review(s.state, s.step, s.stability,
                                                          s.difficulty, s.last_review_ms, r, at_ms)
    return SchedState(state, step, st, d, _capped_due(due_ms, at_ms, state, st, cfg.exam_cap_ms),
                      at_ms, s.reps + 1, s.lapses + (1 if s.state == REVIEW and r == 1 else 0))


def _capped_due(due_ms: int, at_ms: int, state: int, stability: float, cap: int | None) -> int:
    due_ms = max(due_ms, at_ms)
    # Before the exam, an interval that would jump past it is cut to the eve of the exam unless
    # the item is well learned. From the eve on there is nothing left to cut to.
    if cap is not None and at_ms < cap < due_ms and not well_learned(state, stability):
        return cap
    return due_ms


def replay(reviews: list[tuple[int, Grade]], cfg: SchedulerConfig = SchedulerConfig()) -> SchedState:
    """Schedule state rebuilt from an item's review log (time, grade), taken in time order.

    Reviews with the same instant keep the order given (callers sort ties by review id).
    Equal to applying apply_review review by review, with one SchedState built at the end."""
    if not reviews:
        return SchedState()
    return replay_sorted(sorted(reviews, key=lambda r: r[0]), cfg)


def replay_sorted(reviews: Sequence[Sequence[Any]], cfg: SchedulerConfig = SchedulerConfig()
                  ) -> SchedState:
    """replay() for a non-empty log already in order: entries (time, grade, ...), where the
    grade may be a plain int 1-4 and anything after it is ignored."""
    review = _step_fn(cfg).review
    cap = cfg.exam_cap_ms
    state, step, st, d, last = LEARNING, 0, None, None, None
    due_ms = 0
    lapses = 0
    for rec in reviews:
        at_ms, r = rec[0], int(rec[1])
        if state == REVIEW and r == 1 and last is not None:
            lapses += 1
        state, step, st, d, due_ms = review(state, step, st, d, last, r, at_ms)
        due_ms = _capped_due(due_ms, at_ms, state, st, cap)
        last = at_ms
    return SchedState(state, step, st, d, due_ms, last, len(reviews), lapses)


def retrievability(s: SchedState, now_ms: int, cfg: SchedulerConfig = SchedulerConfig()) -> float:
    """Predicted probability of recall now, with fractional elapsed days (0 for a new item).

    fsrs' own helper rounds down to whole days, which reads 1.0 for the first 24 hours.
    """
    if s.stability is None or s.last_review_ms is None:
        return 0.0
    decay, factor = _curve(cfg)
    elapsed = max(0.0, (now_ms - s.last_review_ms) / MS_PER_DAY)
    return (1 + factor * elapsed / s.stability) ** decay


@lru_cache(maxsize=8)
def _curve(cfg: SchedulerConfig) -> tuple[float, float]:
    """(decay, factor) of the FSRS-6 forgetting curve R = (1 + factor * t / S) ** decay."""
    decay = -_scheduler(cfg).parameters[20]
    return decay, 0.9 ** (1 / decay) - 1


def recall_at(cfg: SchedulerConfig, now_ms: int) -> Callable[[float, int], float]:
    """retrievability() for many items at one instant: (stability, last review ms) -> recall,
    without building a SchedState per item (the readiness report's loop)."""
    decay, factor = _curve(cfg)

    def recall(stability: float, last_review_ms: int) -> float:
        elapsed = max(0.0, (now_ms - last_review_ms) / MS_PER_DAY)
        return (1 + factor * elapsed / stability) ** decay

    return recall


# ---- the study day -------------------------------------------------------------------------

def day_start(now: datetime, tz: tzinfo, hour: int) -> datetime:
    """UTC instant at which the study day containing `now` began (days start at `hour` local)."""
    local = now.astimezone(tz)
    start_date = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    return datetime.combine(start_date, time(hour), tzinfo=tz).astimezone(timezone.utc)


def next_day_start(now: datetime, tz: tzinfo, hour: int) -> datetime:
    """UTC instant at which the next study day begins."""
    start = day_start(now, tz, hour).astimezone(tz)
    nxt = datetime.combine(start.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return nxt.astimezone(timezone.utc)


# ---- queue rules ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    new_per_day: int = 20
    reviews_per_day: int = 200
    learn_ahead_min: int = 20


@dataclass(frozen=True)
class Bucket:
    """One step of the queue: take the earliest-due card of `kind` due before `due_before_ms`
    (for new cards: the next in pack order), if `remaining` allows."""

    kind: str  # "learning" (learning or relearning), "review", "new", or "missed" (step 0)
    due_before_ms: int | None
    remaining: int


def queue_plan(now_ms: int, day_end_ms: int, limits: Limits, new_done_today: int,
               reviews_done_today: int) -> list[Bucket]:
    """The order in which the next card is sought.

    1. learning and relearning cards due now (failed cards come back within the run);
    2. review cards due before the study day ends, up to the daily review limit;
    3. new cards up to the daily new limit;
    4. missed cards (first learning step) due within the learn-ahead window, so a run does not
       end while a failed card waits a few minutes for its step. Cards on a later step are not
       pulled forward: showing a card again seconds after a Good answer teaches nothing.
    """
    unlimited = 1 << 30
    return [
        Bucket("learning", now_ms, unlimited),
        Bucket("review", day_end_ms, max(0, limits.reviews_per_day - reviews_done_today)),
        Bucket("new", None, max(0, limits.new_per_day - new_done_today)),
        Bucket("missed", now_ms + limits.learn_ahead_min * 60_000, unlimited),
    ]


"""Mastery, readiness estimates with their uncertainty, and the study plan for an exam date.

Pure functions over plain numbers: the services gather the numbers from the database.
The method is described in plain words in docs/readiness.md; the constants below are the
knobs it names.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from cmqprep.domain.scheduling import (
    MS_PER_DAY,
    WELL_LEARNED_STABILITY_DAYS,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    retrievability,
    well_learned,
)

MASTERED_STABILITY_DAYS = WELL_LEARNED_STABILITY_DAYS
"""An item is mastered once it is in review with a stability of three weeks or more: its
predicted recall is still 90% three weeks after the last review (FSRS defines stability as the
interval at which recall falls to 90%). The same rule decides which items the exam-date cap
leaves alone (domain/scheduling.well_learned)."""

UNSEEN_PRIOR = 0.30
"""Chance of answering an unseen question right. Pure guessing on four options gives 0.25;
candidates must have years of quality work behind them, so a little above chance, but well
below what study gives: unseen material should never look like progress."""

UNSEEN_SD = 0.10
"""How far the truth about unseen material may sit from UNSEEN_PRIOR (one standard deviation):
the 80% range 0.17-0.43 spans pure guessing to a fair grasp from experience."""

QUIZ_PRIOR_WEIGHT = 30.0
"""The recall model counts as this many quiz answers when blended with quiz accuracy: after
30 recent quiz answers in an area, the two weigh the same."""

Z80 = 1.2816  # two-sided 80% normal interval


def is_mastered(state: int, stability: float | None) -> bool:
    return well_learned(state, stability)


def p_correct(recall: float, guess: float) -> float:
    """Chance of a right answer: recalled, or not recalled and guessed right."""
    return recall + (1.0 - recall) * guess


@dataclass(frozen=True)
class Estimate:
    """Expected share correct with the two parts of its uncertainty (standard deviations)."""

    mean: float
    draw_sd: float  # luck of the draw on an exam with this many questions from the area
    unknown_sd: float  # what we do not know about unseen material

    @property
    def sd(self) -> float:
        return math.hypot(self.draw_sd, self.unknown_sd)

    @property
    def low(self) -> float:
        return max(0.0, self.mean - Z80 * self.sd)

    @property
    def high(self) -> float:
        return min(1.0, self.mean + Z80 * self.sd)


def area_estimate(seen_p: Iterable[float], unseen: int, exam_questions: float,
                  quiz_correct: int = 0, quiz_total: int = 0,
                  prior: float = UNSEEN_PRIOR) -> Estimate:
    """Readiness of one area.

    seen_p: chance of a right answer now for each seen item (see p_correct); unseen: items not
    yet seen, counted at `prior`; exam_questions: how many questions of this area the real exam
    has (sets the luck-of-the-draw spread); quiz_correct/quiz_total: recent quiz and exam answers
    in the area, blended in as evidence.
    """
    seen_list = list(seen_p)
    n = len(seen_list) + unseen
    if n == 0:
        model, unseen_share = prior, 1.0
    else:
        model = (sum(seen_list) + unseen * prior) / n
        unseen_share = unseen / n
    k = QUIZ_PRIOR_WEIGHT
    mean = (k * model + quiz_correct) / (k + quiz_total)
    shrink = k / (k + quiz_total)  # quiz answers measure unseen material too
    draw = math.sqrt(mean * (1 - mean) / exam_questions) if exam_questions > 0 else 0.0
    return Estimate(mean, draw, unseen_share * UNSEEN_SD * shrink)


def combine(parts: Sequence[tuple[float, Estimate]]) -> Estimate:
    """Blueprint-weighted overall estimate from (weight, estimate) per area.

    Draw luck is independent between areas; what we do not know about unseen material is
    treated as shared (the same learner), so those parts add up rather than average out.
    """
    total = sum(w for w, _ in parts)
    if total <= 0:
        return Estimate(UNSEEN_PRIOR, 0.0, UNSEEN_SD)
    mean = sum(w * e.mean for w, e in parts) / total
    draw = math.sqrt(sum((w / total) ** 2 * e.draw_sd ** 2 for w, e in parts))
    unknown = sum(w / total * e.unknown_sd for w, e in parts)
    return Estimate(mean, draw, unknown)


def points_lost(weight: float, readiness: float) -> float:
    """Expected share of the whole exam lost in an area: where study pays most."""
    return weight * (1.0 - readiness)


def weakest(areas: Sequence[tuple[str, float, float]], n: int = 2) -> list[str]:
    """Codes of the `n` areas with the most expected points lost, from (code, weight, readiness);
    ties go to blueprint order. Areas with no weight are never suggested."""
    ranked = sorted((i for i, a in enumerate(areas) if a[1] > 0),
                    key=lambda i: (-points_lost(areas[i][1], areas[i][2]), i))
    return [areas[i][0] for i in ranked[:n]]


# ---- exam-date plan --------------------------------------------------------------------------

REVIEW_MARGIN_DAYS = 7
"""New material should be finished this many days before the exam, leaving the last week for
reviews and mock exams."""


@dataclass(frozen=True)
class DailyPlan:
    days_left: int  # study days before the exam day (0 on the exam day, negative after)
    unseen: int
    learning_days: int  # days left to introduce new items (before the review margin)
    new_per_day: int  # needed to have seen everything in time
    margin_days: int
    on_track: bool  # the setting new_per_day is enough

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)

    def describe(self, exam: date) -> str:
        """The plan in one sentence, for the home screen and `cmqprep stats`."""
        if self.days_left < 0:
            return f"The exam date {exam.isoformat()} has passed."
        if self.days_left == 0:
            return "Exam today. Good luck!"
        if not self.unseen:
            advice = "every item seen: keep up with the reviews and take mock exams"
        else:
            advice = (f"{self.new_per_day} new a day sees all {self.unseen} unseen items with "
                      f"{self.margin_days} days left for review")
            if not self.on_track:
                advice += " (raise new_per_day)"
        return f"Exam in {self.days_left} days ({exam.isoformat()}): {advice}."


def daily_plan(today: date, exam: date, unseen: int, new_per_day_setting: int,
               margin_days: int = REVIEW_MARGIN_DAYS) -> DailyPlan:
    """How many new items a day see the whole bank before the review margin.

    With fewer days left than the margin, the margin shrinks to half the time left, so the
    plan still asks for something sensible instead of the impossible."""
    days_left = (exam - today).days
    margin = margin_days if days_left > margin_days else max(0, days_left // 2)
    learning_days = max(0, days_left - margin)
    if unseen == 0:
        need = 0
    elif learning_days == 0:
        need = unseen  # out of time: everything today (the UI says so)
    else:
        need = math.ceil(unseen / learning_days)
    return DailyPlan(days_left, unseen, learning_days, need, margin,
                     need <= new_per_day_setting and days_left > 0)


# ---- calibration -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    """One review predicted from the item's history before it."""

    elapsed_days: float  # since the previous review of the item
    predicted: float  # predicted recall at the moment of the review
    recalled: bool  # rated Hard, Good or Easy


def predictions(reviews: Sequence[tuple[int, int]], cfg: SchedulerConfig = SchedulerConfig(),
                ) -> list[Prediction]:
    """Predicted recall for each review of one item after its first, from its own prior history
    only: (time ms, rating) in time order in, one Prediction per later review out."""
    out: list[Prediction] = []
    state = SchedState()
    for at_ms, rating in reviews:
        if state.last_review_ms is not None:
            out.append(Prediction((at_ms - state.last_review_ms) / MS_PER_DAY,
                                  retrievability(state, at_ms, cfg), rating > 1))
        state = apply_review(state, Grade(rating), at_ms, cfg)
    return out


def _clip(p: float) -> float:
    return min(1 - 1e-6, max(1e-6, p))


def log_loss(pairs: Iterable[tuple[float, bool]]) -> float:
    """Mean negative log-likelihood of outcomes under the predicted probabilities."""
    total, n = 0.0, 0
    for p, y in pairs:
        p = _clip(p)
        total -= math.log(p if y else 1 - p)
        n += 1
    return total / n if n else float("nan")


@dataclass(frozen=True)
class Bin:
    label: str
    n: int
    predicted: float  # mean predicted recall in the bin
    actual: float  # share actually recalled

    def to_json(self) -> dict[str, object]:
        return {"label": self.label, "n": self.n, "predicted": round(self.predicted, 4),
                "actual": round(self.actual, 4)}


def _bins(rows: Iterable[tuple[float, float, bool]], edges: Sequence[float],
          labels: Sequence[str]) -> list[Bin]:
    sums = [[0, 0.0, 0] for _ in labels]
    for key, p, y in rows:
        i = max(0, min(len(labels) - 1, _bisect(edges, key)))
        sums[i][0] += 1
        sums[i][1] += p
        sums[i][2] += y
    return [Bin(label, n, sp / n, sy / n) for label, (n, sp, sy) in zip(labels, sums) if n]


def _bisect(edges: Sequence[float], x: float) -> int:
    i = 0
    while i < len(edges) and x >= edges[i]:
        i += 1
    return i - 1


PROB_EDGES = (0.0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95)
BAND_EDGES = (0.0, 1.0, 3.0, 7.0, 21.0, 60.0)
BAND_LABELS = ("< 1 day", "1-3 days", "3-7 days", "1-3 weeks", "3-8 weeks", "8+ weeks")


def calibration_by_prediction(preds: Iterable[Prediction]) -> list[Bin]:
    """Bins of predicted recall: within each, mean prediction against the share recalled."""
    labels = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(PROB_EDGES, (*PROB_EDGES[1:], 1.0))]
    return _bins(((p.predicted, p.predicted, p.recalled) for p in preds), PROB_EDGES, labels)


def calibration_by_interval(preds: Iterable[Prediction]) -> list[Bin]:
    """Bins of the interval since the previous review: what a learner can check against the
    target retention (intervals the scheduler chose should land near it)."""
    return _bins(((p.elapsed_days, p.predicted, p.recalled) for p in preds), BAND_EDGES,
                 BAND_LABELS)


CALIBRATION_MIN_DAYS = 1.0
"""Reviews sooner than this after the previous one (learning steps, repeats within a session)
are left out of calibration: they test short-term memory, not the forgetting curve."""


# ---- history ---------------------------------------------------------------------------------

def study_date(at: datetime, tz: tzinfo, day_start_hour: int) -> date:
    """The study day an instant belongs to (a day starts at `day_start_hour` local time)."""
    return (at.astimezone(tz) - timedelta(hours=day_start_hour)).date()


def streak(active: Collection[date], today: date) -> int:
    """Consecutive study days with at least one review, ending today; a day not yet studied
    today does not break it (it counts up to yesterday until the day is over)."""
    day = today if today in active else today - timedelta(days=1)
    n = 0
    while day in active:
        n += 1
        day -= timedelta(days=1)
    return n

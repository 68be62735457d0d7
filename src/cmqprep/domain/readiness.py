"""Mastery, readiness estimates with their uncertainty, and the study plan for an exam date.

Pure functions over plain numbers: the services gather the numbers from the database.
The method is described in plain words in docs/readiness.md; the constants below are the
knobs it names.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from cmqprep.domain.scheduling import (
    MS_PER_DAY,
    WELL_LEARNED_STABILITY_DAYS,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    from_ms,
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


def predict_step(state: SchedState, at_ms: int, rating: int,
                 cfg: SchedulerConfig = SchedulerConfig()) -> tuple[Prediction | None, SchedState]:
    """One review of an item whose earlier reviews replay to `state`: its prediction (None for
    the first review) and the state after it. Lets a cache continue a replay where it stopped."""
    pred = None
    if state.last_review_ms is not None:
        pred = Prediction((at_ms - state.last_review_ms) / MS_PER_DAY,
                          retrievability(state, at_ms, cfg), rating > 1)
    return pred, apply_review(state, Grade(rating), at_ms, cfg)


def predictions(reviews: Sequence[tuple[int, int]], cfg: SchedulerConfig = SchedulerConfig(),
                ) -> list[Prediction]:
    """Predicted recall for each review of one item after its first, from its own prior history
    only: (time ms, rating) in time order in, one Prediction per later review out."""
    out: list[Prediction] = []
    state = SchedState()
    for at_ms, rating in reviews:
        pred, state = predict_step(state, at_ms, rating, cfg)
        if pred is not None:
            out.append(pred)
    return out


def _clip(p: float) -> float:
    return min(1 - 1e-6, max(1e-6, p))


def loss_term(p: float, recalled: bool) -> float:
    """One review's share of the log loss (see log_loss)."""
    p = _clip(p)
    return -math.log(p if recalled else 1 - p)


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
    """Index of the last edge at or below x (-1 below the first): the bin x falls in."""
    return bisect_right(edges, x) - 1


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


def interval_band(elapsed_days: float) -> int:
    """Index into BAND_LABELS of an interval since the previous review."""
    return max(0, min(len(BAND_LABELS) - 1, _bisect(BAND_EDGES, elapsed_days)))


def bins_from_sums(sums: Mapping[int, tuple[int, float, float]]) -> list[Bin]:
    """calibration_by_interval from stored per-band sums {band: (n, sum predicted, sum
    recalled)} (the statistics cache keeps these instead of every prediction)."""
    out = []
    for i, label in enumerate(BAND_LABELS):
        n, sp, sy = sums.get(i, (0, 0.0, 0.0))
        if n:
            out.append(Bin(label, n, sp / n, sy / n))
    return out


def baseline_log_loss(n: int, recalled: float) -> float | None:
    """Log loss of always predicting the overall recall share, from the counts alone."""
    if not n:
        return None
    base = recalled / n
    return (recalled * loss_term(base, True) + (n - recalled) * loss_term(base, False)) / n


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


_EPOCH = date(1970, 1, 1)
_UNKNOWN = object()


class StudyDays:
    """study_date for epoch-ms instants, fast enough for tens of thousands of them.

    The UTC offset is looked up once per UTC day (twice: at its first and last millisecond);
    only on a day where the two differ (a DST change) is it looked up per instant. The result
    is the same as study_date: the wall-clock time minus the day-start hour, as a date."""

    def __init__(self, tz: tzinfo, day_start_hour: int):
        self.tz = tz
        self.shift_ms = day_start_hour * 3_600_000
        self._day_offsets: dict[int, int | None] = {}

    def _offset_ms(self, ms: int) -> int:
        off = from_ms(ms).astimezone(self.tz).utcoffset()
        return 0 if off is None else off // timedelta(milliseconds=1)

    def constant_on(self, utc_day: int) -> bool:
        """Whether the UTC offset is the same all through UTC day `utc_day` (ms // MS_PER_DAY):
        then the instants of that day map to at most two consecutive study days, in order."""
        self.index_of(utc_day * MS_PER_DAY)
        return self._day_offsets[utc_day] is not None

    def index_of(self, ms: int) -> int:
        """The study date as days since 1970-01-01 (cheaper than a date for counting)."""
        day = ms // MS_PER_DAY
        off = self._day_offsets.get(day, _UNKNOWN)
        if off is _UNKNOWN:
            first = self._offset_ms(day * MS_PER_DAY)
            off = first if first == self._offset_ms((day + 1) * MS_PER_DAY - 1) else None
            self._day_offsets[day] = off
        if off is None:
            off = self._offset_ms(ms)
        return (ms + off - self.shift_ms) // MS_PER_DAY  # type: ignore[operator]

    def date_of(self, ms: int) -> date:
        return _EPOCH + timedelta(days=self.index_of(ms))


def day_index(d: date) -> int:
    """A date as days since 1970-01-01 (the inverse of StudyDays.index_of's numbering)."""
    return (d - _EPOCH).days


def streak_index(active: Collection[int], today: int) -> int:
    """streak() over day numbers (StudyDays.index_of, day_index)."""
    day = today if today in active else today - 1
    n = 0
    while day in active:
        n += 1
        day -= 1
    return n

"""Readiness, mastery, calibration, the exam-date plan and the exam-date interval cap (pure code)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmqprep.config import Settings
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import (
    MS_PER_DAY,
    REVIEW,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    exam_cap_ms,
    replay,
    retrievability,
    to_ms,
    well_learned,
)
from cmqprep.services.settings_cache import scheduler_config

T0 = to_ms(datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc))
DAY = MS_PER_DAY


def test_mastered_means_review_state_with_three_weeks_of_stability() -> None:
    assert rd.is_mastered(REVIEW, 21.0) and rd.is_mastered(REVIEW, 400.0)
    assert not rd.is_mastered(REVIEW, 20.9)
    assert not rd.is_mastered(1, 50.0)  # still learning
    assert not rd.is_mastered(REVIEW, None)


def test_chance_of_a_right_answer_adds_a_guess_when_forgotten() -> None:
    assert rd.p_correct(0.8, 0.25) == pytest.approx(0.85)
    assert rd.p_correct(0.0, 0.25) == 0.25
    assert rd.p_correct(0.6, 0.0) == 0.6  # term cards: no options to guess from


def test_area_estimate_by_hand() -> None:
    # two seen questions at 0.85, two unseen at the 0.30 prior, 25 exam questions
    e = rd.area_estimate([0.85, 0.85], unseen=2, exam_questions=25)
    assert e.mean == pytest.approx(0.575)
    assert e.draw_sd == pytest.approx(math.sqrt(0.575 * 0.425 / 25))
    assert e.unknown_sd == pytest.approx(0.5 * rd.UNSEEN_SD)
    sd = math.hypot(e.draw_sd, e.unknown_sd)
    assert (e.low, e.high) == pytest.approx((0.575 - 1.2816 * sd, 0.575 + 1.2816 * sd))
    # 15 of 20 recent quiz answers right: (30 * 0.575 + 15) / (30 + 20)
    q = rd.area_estimate([0.85, 0.85], unseen=2, exam_questions=25, quiz_correct=15, quiz_total=20)
    assert q.mean == pytest.approx(0.645)
    assert q.unknown_sd == pytest.approx(0.5 * rd.UNSEEN_SD * 30 / 50)


def test_nothing_seen_is_the_pessimistic_prior_with_the_widest_range() -> None:
    e = rd.area_estimate([], unseen=10, exam_questions=28)
    assert e.mean == pytest.approx(rd.UNSEEN_PRIOR)
    seen = rd.area_estimate([rd.UNSEEN_PRIOR] * 10, unseen=0, exam_questions=28)
    assert seen.high - seen.low < e.high - e.low  # knowing more narrows the range


def test_combine_weights_means_and_adds_the_shared_unknown() -> None:
    a = rd.Estimate(0.6, 0.09, 0.05)
    b = rd.Estimate(0.3, 0.12, 0.10)
    c = rd.combine([(2.0, a), (1.0, b)])
    assert c.mean == pytest.approx(0.5)
    assert c.draw_sd == pytest.approx(math.sqrt((2 / 3 * 0.09) ** 2 + (1 / 3 * 0.12) ** 2))
    assert c.unknown_sd == pytest.approx(2 / 3 * 0.05 + 1 / 3 * 0.10)


def test_weakest_areas_lose_the_most_expected_points() -> None:
    areas = [("I", 0.5, 0.9), ("II", 0.3, 0.5), ("III", 0.2, 0.4), ("IV", 0.0, 0.1)]
    # points lost: 0.05, 0.15, 0.12; IV has no weight on the exam
    assert rd.weakest(areas, 2) == ["II", "III"]
    assert rd.weakest(areas, 5) == ["II", "III", "I"]


@pytest.mark.parametrize("days, unseen, setting, expected", [
    (30, 230, 20, (7, 23, 10, True)),    # 230 over 23 learning days
    (30, 500, 20, (7, 23, 22, False)),   # needs more than the setting allows
    (5, 10, 20, (2, 3, 4, True)),        # short notice: the margin halves
    (1, 10, 20, (0, 1, 10, True)),
    (0, 10, 20, (0, 0, 10, False)),      # exam day: nothing is on track
    (30, 0, 20, (7, 23, 0, True)),
])
def test_daily_plan_by_hand(days: int, unseen: int, setting: int,
                            expected: tuple[int, int, int, bool]) -> None:
    today = date(2026, 3, 2)
    p = rd.daily_plan(today, today + timedelta(days=days), unseen, setting)
    assert p.days_left == days
    assert (p.margin_days, p.learning_days, p.new_per_day, p.on_track) == expected


def test_study_date_and_streak() -> None:
    utc = timezone.utc
    assert rd.study_date(datetime(2026, 3, 2, 3, 59, tzinfo=utc), utc, 4) == date(2026, 3, 1)
    assert rd.study_date(datetime(2026, 3, 2, 4, 0, tzinfo=utc), utc, 4) == date(2026, 3, 2)
    d = date(2026, 3, 10)
    active = {d, d - timedelta(days=1), d - timedelta(days=2), d - timedelta(days=4)}
    assert rd.streak(active, d) == 3
    assert rd.streak(active, d + timedelta(days=1)) == 3  # today not studied yet
    assert rd.streak(active, d + timedelta(days=2)) == 0


def test_log_loss_and_bins_by_hand() -> None:
    assert rd.log_loss([(0.8, True), (0.8, False)]) == pytest.approx(
        (-math.log(0.8) - math.log(0.2)) / 2)
    preds = [rd.Prediction(2.0, 0.9, True), rd.Prediction(2.5, 0.7, False),
             rd.Prediction(10.0, 0.8, True), rd.Prediction(100.0, 0.4, False)]
    bands = {b.label: b for b in rd.calibration_by_interval(preds)}
    assert set(bands) == {"1-3 days", "1-3 weeks", "8+ weeks"}
    assert (bands["1-3 days"].n, bands["1-3 days"].predicted, bands["1-3 days"].actual) == (
        2, pytest.approx(0.8), 0.5)
    probs = {b.label: b for b in rd.calibration_by_prediction(preds)}
    assert probs["0.90-0.95"].n == 1 and probs["0.00-0.50"].actual == 0.0


def test_predictions_use_only_the_prior_history() -> None:
    reviews = [(T0, 3), (T0 + 3 * DAY, 1), (T0 + 4 * DAY, 3)]
    out = rd.predictions(reviews)
    first = apply_review(SchedState(), Grade.GOOD, T0)
    assert len(out) == 2
    assert out[0].elapsed_days == pytest.approx(3.0)
    assert out[0].predicted == pytest.approx(retrievability(first, T0 + 3 * DAY))
    assert out[0].recalled is False and out[1].recalled is True
    second = apply_review(first, Grade.AGAIN, T0 + 3 * DAY)
    assert out[1].predicted == pytest.approx(retrievability(second, T0 + 4 * DAY))


def test_recall_is_ninety_percent_one_stability_after_the_review() -> None:
    s = apply_review(SchedState(), Grade.GOOD, T0)
    assert s.stability is not None
    assert retrievability(s, T0 + int(s.stability * DAY)) == pytest.approx(0.9, abs=1e-4)


# ---- the exam-date cap -------------------------------------------------------------------

def learned(at: int, cfg: SchedulerConfig = SchedulerConfig()) -> SchedState:
    """A new item answered Good twice a day apart: in review, a few days of stability."""
    return replay([(at, Grade.GOOD), (at + DAY, Grade.GOOD)], cfg)


def test_intervals_of_items_not_well_learned_stop_at_the_eve_of_the_exam() -> None:
    free = learned(T0)
    assert free.state == REVIEW and not well_learned(free.state, free.stability)
    cap = T0 + DAY + 2 * DAY  # the free interval is longer than two days
    assert free.due_ms is not None and free.due_ms > cap
    capped = learned(T0, SchedulerConfig(exam_cap_ms=cap))
    assert capped.due_ms == cap
    # the memory state itself is untouched: only the date moves
    assert (capped.stability, capped.difficulty) == (free.stability, free.difficulty)


def test_well_learned_items_and_reviews_on_the_eve_are_not_capped() -> None:
    strong = SchedState(state=REVIEW, step=None, stability=40.0, difficulty=5.0,
                        due_ms=T0, last_review_ms=T0 - 40 * DAY, reps=5)
    cap = T0 + 3 * DAY
    after = apply_review(strong, Grade.GOOD, T0, SchedulerConfig(exam_cap_ms=cap))
    assert well_learned(after.state, after.stability) and after.due_ms is not None
    assert after.due_ms > cap
    late = learned(T0, SchedulerConfig(exam_cap_ms=T0 + DAY // 2))  # 2nd review after the cap
    assert late.due_ms == learned(T0).due_ms
    past = learned(T0, SchedulerConfig(exam_cap_ms=T0 - DAY))  # exam already over
    assert past.due_ms == learned(T0).due_ms


@given(st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=12),
       st.integers(min_value=1, max_value=60))
def test_no_due_date_jumps_past_the_cap_unless_well_learned(grades: list[int], cap_days: int) -> None:
    cap = T0 + cap_days * DAY
    cfg = SchedulerConfig(exam_cap_ms=cap)
    s, at = SchedState(), T0
    for g in grades:
        if at >= cap:
            break
        s = apply_review(s, Grade(g), at, cfg)
        assert s.due_ms is not None
        assert s.due_ms <= cap or well_learned(s.state, s.stability) or at >= cap
        at = max(at + 60_000, s.due_ms)


def test_cap_instant_is_the_start_of_the_study_day_before_the_exam() -> None:
    ny = ZoneInfo("America/New_York")  # UTC-4 in summer time
    assert exam_cap_ms(date(2026, 4, 1), ny, 4) == to_ms(
        datetime(2026, 3, 31, 8, 0, tzinfo=timezone.utc))
    cfg = scheduler_config(Settings(timezone="UTC", exam_date="2026-04-01"))
    assert cfg.exam_cap_ms == to_ms(datetime(2026, 3, 31, 4, 0, tzinfo=timezone.utc))
    assert scheduler_config(Settings(timezone="UTC")).exam_cap_ms is None

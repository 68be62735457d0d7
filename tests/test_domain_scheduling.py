"""Scheduling rules: rating mapping, day rollover, queue order, and FSRS invariants."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

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
    from_ms,
    next_day_start,
    queue_plan,
    replay,
    retrievability,
    to_ms,
)

T0 = to_ms(datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc))
HOUR = 3_600_000
DAY = 24 * HOUR


def test_wrong_answer_is_again_and_right_answer_defaults_to_good() -> None:
    from cmqprep.domain.scheduling import grade_for_answer

    assert grade_for_answer(False) == Grade.AGAIN
    assert grade_for_answer(False, Grade.EASY) == Grade.AGAIN
    assert grade_for_answer(True) == Grade.GOOD
    assert grade_for_answer(True, Grade.HARD) == Grade.HARD


def test_day_starts_at_configured_local_hour() -> None:
    tz = ZoneInfo("America/New_York")
    # 03:30 local on 10 March belongs to the study day that began 04:00 on 9 March.
    before = datetime(2026, 3, 10, 3, 30, tzinfo=tz).astimezone(timezone.utc)
    assert day_start(before, tz, 4).astimezone(tz) == datetime(2026, 3, 9, 4, 0, tzinfo=tz)
    after = datetime(2026, 3, 10, 4, 0, tzinfo=tz).astimezone(timezone.utc)
    assert day_start(after, tz, 4).astimezone(tz) == datetime(2026, 3, 10, 4, 0, tzinfo=tz)


def test_next_day_start_follows_daylight_saving_change() -> None:
    tz = ZoneInfo("America/New_York")  # clocks go forward on 8 March 2026
    now = datetime(2026, 3, 7, 12, 0, tzinfo=tz).astimezone(timezone.utc)
    start, end = day_start(now, tz, 4), next_day_start(now, tz, 4)
    assert end.astimezone(tz) == datetime(2026, 3, 8, 4, 0, tzinfo=tz)
    assert (end - start).total_seconds() == 23 * 3600  # a 23-hour study day


def test_queue_plan_orders_learning_then_reviews_then_new_then_learn_ahead() -> None:
    plan = queue_plan(T0, T0 + 5 * HOUR, Limits(new_per_day=20, reviews_per_day=200), 5, 190)
    assert [b.kind for b in plan] == ["learning", "review", "new", "missed"]
    assert plan[0].due_before_ms == T0
    assert plan[1].due_before_ms == T0 + 5 * HOUR and plan[1].remaining == 10
    assert plan[2].remaining == 15
    assert plan[3].due_before_ms == T0 + 20 * 60_000


def test_limits_exhausted_give_no_room() -> None:
    plan = queue_plan(T0, T0 + HOUR, Limits(new_per_day=20, reviews_per_day=200), 25, 300)
    assert plan[1].remaining == 0 and plan[2].remaining == 0


def test_failed_review_relearns_and_counts_a_lapse() -> None:
    s = replay([(T0, Grade.GOOD), (T0 + 10 * 60_000, Grade.GOOD)])
    assert s.state == REVIEW and s.lapses == 0
    failed = apply_review(s, Grade.AGAIN, s.due_ms)
    assert failed.state == RELEARNING and failed.lapses == 1
    # the relearning step brings it back within the same sitting
    assert failed.due_ms - s.due_ms <= 10 * 60_000


def test_new_card_answered_again_stays_in_learning_within_minutes() -> None:
    s = apply_review(SchedState(), Grade.AGAIN, T0)
    assert s.state == LEARNING and s.reps == 1
    assert s.due_ms - T0 <= 10 * 60_000


def test_retrievability_uses_fractional_days() -> None:
    s = replay([(T0, Grade.GOOD), (T0 + 10 * 60_000, Grade.GOOD)])
    r_now = retrievability(s, s.last_review_ms)
    r_half_day = retrievability(s, s.last_review_ms + DAY // 2)
    assert r_now == 1.0
    assert 0.9 < r_half_day < 1.0  # fsrs' own helper would still say 1.0 here
    assert retrievability(SchedState(), T0) == 0.0


grades = st.sampled_from(list(Grade))
gaps = st.integers(min_value=0, max_value=60 * DAY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(gaps, grades), min_size=1, max_size=25))
def test_due_never_before_the_review_that_set_it(steps: list[tuple[int, Grade]]) -> None:
    s, t = SchedState(), T0
    for gap, grade in steps:
        t += gap
        s = apply_review(s, grade, t)
        assert s.due_ms >= t
        assert s.last_review_ms == t
        assert s.state in (LEARNING, REVIEW, RELEARNING)
        assert 1.0 <= s.difficulty <= 10.0
        assert s.stability > 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60 * DAY), grades), min_size=1, max_size=15))
def test_replay_of_a_log_equals_stepwise_application(steps: list[tuple[int, Grade]]) -> None:
    s, t, log = SchedState(), T0, []
    for gap, grade in steps:
        t += gap
        s = apply_review(s, grade, t)
        log.append((t, grade))
    assert replay(list(reversed(log))) == s  # replay sorts by time


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(gaps, grades), min_size=1, max_size=10), st.integers(0, 400 * DAY))
def test_retrievability_falls_with_time(steps: list[tuple[int, Grade]], later: int) -> None:
    s = replay([(T0 + sum(g for g, _ in steps[: i + 1]), gr) for i, (_, gr) in enumerate(steps)])
    a = retrievability(s, s.last_review_ms + later)
    b = retrievability(s, s.last_review_ms + later + DAY)
    assert 0.0 < b <= a <= 1.0


def test_ms_round_trip_and_naive_datetimes_refused() -> None:
    import pytest

    now = datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
    assert from_ms(to_ms(now)) == now
    with pytest.raises(ValueError):
        to_ms(datetime(2026, 1, 1))
    assert SchedState().state == NEW

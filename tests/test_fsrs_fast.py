"""The pure-float FSRS step (domain/fsrs_fast.py) against the fsrs package: same floats, bit for bit."""

from __future__ import annotations

from datetime import timedelta

import fsrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmqprep.domain.scheduling import (
    NEW,
    REVIEW,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    from_ms,
    replay,
    to_ms,
    well_learned,
)

T0 = 946_684_800_000  # 2000-01-01
T_END = 5_680_000_000_000  # about 2150


def reference_step(s: SchedState, grade: int, at_ms: int, cfg: SchedulerConfig) -> SchedState:
    """One review through fsrs' own Scheduler.review_card (fuzzing off): what apply_review
    computed before it had its own arithmetic."""
    scheduler = fsrs.Scheduler(
        desired_retention=cfg.desired_retention,
        learning_steps=tuple(timedelta(minutes=m) for m in cfg.learning_steps_min),
        relearning_steps=tuple(timedelta(minutes=m) for m in cfg.relearning_steps_min),
        maximum_interval=cfg.maximum_interval_days, enable_fuzzing=False)
    if s.state == NEW:
        card = fsrs.Card(card_id=1, state=fsrs.State.Learning, step=0, due=from_ms(at_ms))
    else:
        card = fsrs.Card(card_id=1, state=fsrs.State(s.state), step=s.step, stability=s.stability,
                         difficulty=s.difficulty, due=from_ms(s.due_ms or at_ms),
                         last_review=(from_ms(s.last_review_ms)
                                      if s.last_review_ms is not None else None))
    card, _ = scheduler.review_card(card, fsrs.Rating(grade), review_datetime=from_ms(at_ms))
    due_ms = max(to_ms(card.due), at_ms)
    cap = cfg.exam_cap_ms
    if cap is not None and at_ms < cap < due_ms and not well_learned(int(card.state),
                                                                    card.stability):
        due_ms = cap
    return SchedState(int(card.state), card.step, card.stability, card.difficulty, due_ms, at_ms,
                      s.reps + 1, s.lapses + (1 if s.state == REVIEW and grade == 1 else 0))


def same_bits(a: SchedState, b: SchedState) -> bool:
    # floats compared with == after a type check: equal floats have equal bits (no NaN here,
    # and 0.0 / -0.0 never occur: stability and difficulty are clamped above zero)
    return a == b and type(a.stability) is type(b.stability) and \
        type(a.difficulty) is type(b.difficulty)


steps_min = st.lists(st.sampled_from([0.5, 1.0, 3.0, 10.0, 15.5, 60.0, 1440.0, 2 / 3]),
                     max_size=3).map(tuple)
configs = st.builds(
    SchedulerConfig,
    desired_retention=st.sampled_from([0.9, 0.7, 0.8, 0.85, 0.95, 0.97, 0.925]),
    learning_steps_min=steps_min,
    relearning_steps_min=steps_min,
    maximum_interval_days=st.sampled_from([36500, 365, 30, 7]),
    exam_cap_ms=st.one_of(st.none(), st.integers(T0, T0 + 3 * 365 * 86_400_000)))
gaps = st.one_of(
    st.integers(0, 120_000),  # same minute or two: learning steps, same-day short-term
    st.integers(0, 86_400_000 * 2),  # around a day: the < 1 day boundary
    st.sampled_from([86_400_000 - 1, 86_400_000, 86_400_001]),
    st.integers(0, 400 * 86_400_000),  # long gaps
    st.integers(0, 30 * 365 * 86_400_000))  # years away: maximum interval, low recall
histories = st.lists(st.tuples(gaps, st.integers(1, 4)), min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(cfg=configs, other=configs, history=histories, start=st.integers(T0, T0 + 50 * 365 * 86_400_000),
       switch=st.integers(0, 40))
def test_each_step_equals_the_fsrs_package(cfg: SchedulerConfig, other: SchedulerConfig,
                                           history: list[tuple[int, int]], start: int,
                                           switch: int) -> None:
    """Every step, from every state a history reaches, including a card left on a step that
    the settings no longer have (the settings change part way through)."""
    fast = ref = SchedState()
    at = start
    for n, (gap, grade) in enumerate(history):
        at = min(at + gap, T_END)
        c = cfg if n < switch else other
        fast = apply_review(fast, Grade(grade), at, c)
        ref = reference_step(ref, grade, at, c)
        assert same_bits(fast, ref), (n, c, fast, ref)


@settings(max_examples=200, deadline=None)
@given(cfg=configs, history=histories, start=st.integers(T0, T0 + 50 * 365 * 86_400_000))
def test_replay_equals_the_reference_step_by_step(cfg: SchedulerConfig,
                                                  history: list[tuple[int, int]],
                                                  start: int) -> None:
    log, at = [], start
    for gap, grade in history:
        at += gap
        log.append((at, Grade(grade)))
    ref = SchedState()
    for at_ms, grade in log:
        ref = reference_step(ref, int(grade), at_ms, cfg)
    assert same_bits(replay(log, cfg), ref)


def test_replay_of_nothing_is_new() -> None:
    assert replay([]) == SchedState()


def test_a_known_history_gives_the_package_figures() -> None:
    """A fixed case with the figures written out, so a change on both sides is noticed too."""
    day = 86_400_000
    log = [(T0, Grade.GOOD), (T0 + 600_000, Grade.GOOD), (T0 + 3 * day, Grade.AGAIN),
           (T0 + 3 * day + 600_000, Grade.GOOD), (T0 + 10 * day, Grade.EASY)]
    s = replay(log)
    ref = SchedState()
    for at_ms, g in log:
        ref = reference_step(ref, int(g), at_ms, SchedulerConfig())
    assert same_bits(s, ref)
    assert (s.state, s.step, s.reps, s.lapses) == (REVIEW, None, 5, 1)
    assert s.due_ms is not None and s.due_ms > T0 + 10 * day


def test_a_relearning_card_without_stability_is_refused() -> None:
    with pytest.raises(ValueError):
        apply_review(SchedState(state=3, step=0), Grade.GOOD, T0)

"""Blueprint draws, timing and scoring of quizzes and mock exams (pure domain)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmqprep.domain.exam import (
    AnswerFact,
    Candidate,
    DrawError,
    Timing,
    blueprint_shortfall,
    draw,
    format_clock,
    proportional_counts,
    score,
)

CMQOE = {"I": 28, "II": 25, "III": 32, "IV": 28, "V": 25, "VI": 15, "VII": 12}


def bank(per_area: dict[str, int]) -> list[Candidate]:
    out, n = [], 0
    for area, count in per_area.items():
        for _ in range(count):
            out.append(Candidate(n, area))
            n += 1
    return out


def test_full_exam_draw_takes_the_blueprint_counts_exactly_plus_unscored() -> None:
    cands = bank({a: n + 20 for a, n in CMQOE.items()})
    d = draw(cands, CMQOE, random.Random(1), unscored=15)
    area_of = {c.item_id: c.area for c in cands}
    assert Counter(area_of[i] for i in d.scored) == Counter(CMQOE)
    assert len(d.unscored) == 15 and not set(d.unscored) & set(d.scored)
    assert sorted(d.order) == sorted(d.scored + d.unscored) and len(set(d.order)) == 180


def test_quiz_counts_follow_the_blueprint_proportions() -> None:
    counts = proportional_counts(CMQOE, {a: 100 for a in CMQOE}, 20)
    assert sum(counts.values()) == 20
    # 20 x 28/165 = 3.39 ... largest remainders: III (3.88) gets 4, VII (1.45) gets 1
    assert counts == {"I": 3, "II": 3, "III": 4, "IV": 3, "V": 3, "VI": 2, "VII": 2}


def test_shortfall_moves_to_areas_with_spare_items() -> None:
    counts = proportional_counts({"A": 1, "B": 1}, {"A": 2, "B": 50}, 20)
    assert counts == {"A": 2, "B": 18}


@given(st.dictionaries(st.sampled_from("ABCDEFG"), st.integers(0, 40), min_size=1),
       st.dictionaries(st.sampled_from("ABCDEFG"), st.integers(0, 60)),
       st.integers(0, 300))
def test_counts_sum_right_and_never_exceed_the_bank(weights, available, total) -> None:
    counts = proportional_counts(weights, available, total)
    usable = sum(available.get(a, 0) for a in weights)
    assert sum(counts.values()) == min(total, usable)
    for area, n in counts.items():
        assert 0 <= n <= available.get(area, 0)


@given(st.dictionaries(st.sampled_from("ABCDE"), st.integers(0, 12), min_size=1),
       st.integers(0, 2**32))
def test_draws_never_repeat_an_item_and_match_the_counts(per_area, seed) -> None:
    cands = bank(per_area)
    counts = proportional_counts({a: 1 for a in per_area}, per_area, 10)
    d = draw(cands, counts, random.Random(seed), unscored=3)
    assert len(set(d.order)) == len(d.order) == sum(counts.values()) + len(d.unscored)
    area_of = {c.item_id: c.area for c in cands}
    assert Counter(area_of[i] for i in d.scored) == Counter({a: n for a, n in counts.items() if n})


def test_draw_prefers_unseen_and_missed_items_and_avoids_the_last_exam() -> None:
    cands = [Candidate(1, "A", seen=5), Candidate(2, "A", seen=0), Candidate(3, "A", seen=3, wrong=3),
             Candidate(4, "A", seen=0)]
    d = draw(cands, {"A": 2}, random.Random(0))
    assert set(d.scored) == {3, 2} or set(d.scored) == {3, 4}
    d = draw(cands, {"A": 2}, random.Random(0), avoid={3, 2})
    assert set(d.scored) == {4, 1}


def test_a_bank_too_small_is_a_clear_error() -> None:
    assert blueprint_shortfall(CMQOE, {**CMQOE, "VI": 10}) == {"VI": 5}
    with pytest.raises(DrawError, match="area B has 1 questions, 2 needed"):
        draw(bank({"A": 3, "B": 1}), {"A": 1, "B": 2}, random.Random(0))


def test_timing_runs_while_away_or_pauses() -> None:
    running = Timing(started_ms=0, limit_ms=60_000, clock_runs=True, spent_ms=0, resumed_ms=0)
    assert running.remaining_ms(45_000) == 15_000
    assert running.expired(60_000) and not running.expired(59_999)
    paused = Timing(0, 60_000, False, 0, 0).checkpoint(20_000)  # left after 20 s
    assert paused.spent_ms == 20_000
    back = Timing(0, 60_000, False, paused.spent_ms, 500_000)  # came back much later
    assert back.remaining_ms(510_000) == 30_000
    assert Timing(0, None, True, 0, 0).remaining_ms(10**9) is None
    assert format_clock(3 * 3600_000 + 61_000) == "3:01:01" and format_clock(299_000) == "04:59"


def test_score_per_area_counts_only_scored_questions() -> None:
    facts = [AnswerFact("I", True, 0, 0), AnswerFact("I", True, 1, 0), AnswerFact("II", True, None, 2),
             AnswerFact("II", True, 2, 2), AnswerFact("I", False, 3, 3)]
    s = score(facts, ["I", "II"])
    assert (s.correct, s.total, s.answered) == (2, 4, 4)
    assert (s.unscored_correct, s.unscored_total) == (1, 1)
    assert [(a.code, a.correct, a.total) for a in s.areas] == [("I", 1, 2), ("II", 1, 2)]
    assert s.percent == 50.0 and s.passes(50) and not s.passes(70)

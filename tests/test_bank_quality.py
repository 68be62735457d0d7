"""Quality gates for the bundled CMQ/OE bank (issue: full coverage, accurate and exam-like)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmqprep.domain.blueprint import level_rank
from cmqprep.domain.items import Question
from cmqprep.domain.lint import near_duplicate_stems, profile_bank
from cmqprep.packs.native import load_pack

BANK = Path(__file__).resolve().parents[1] / "question_bank" / "cmqoe"


@pytest.fixture(scope="module")
def bank():
    return load_pack(BANK)  # validates strictly: any problem raises


@pytest.fixture(scope="module")
def profile(bank):
    return profile_bank(bank.items, bank.blueprint)


def questions(bank) -> list[Question]:
    return [i for i in bank.items if isinstance(i, Question)]


def test_size_supports_four_mock_exams_without_repeats(bank, profile) -> None:
    assert profile.questions >= 720 and profile.terms >= 300
    topic_area = bank.blueprint.topic_codes()
    for area in bank.blueprint.areas:
        n = sum(1 for q in questions(bank) if topic_area[q.topic] == area.code)
        assert n >= 4 * area.scored, area.code
        # in proportion to the blueprint, within 1.5 percentage points
        assert abs(n / profile.questions - area.scored / bank.blueprint.scored) < 0.015, area.code


def test_every_topic_has_at_least_four_questions(bank, profile) -> None:
    for area in bank.blueprint.areas:
        for topic in area.topics:
            assert profile.per_topic[topic.code] >= 4, topic.code


def test_key_position_is_spread_evenly(profile) -> None:
    for letter, share in profile.key_share.items():
        assert 0.20 <= share <= 0.30, (letter, share)


def test_key_is_rarely_the_longest_option(profile) -> None:
    assert profile.key_longest_share <= 0.35


def test_no_all_or_none_of_the_above(profile) -> None:
    assert profile.all_none == []


def test_explanations_have_at_least_two_sentences(profile) -> None:
    assert profile.short_explanations == []


def test_no_two_stems_are_near_duplicates(bank) -> None:
    assert near_duplicate_stems(questions(bank)) == []


def test_a_third_of_each_area_is_at_apply_or_above(profile) -> None:
    for area, share in profile.apply_or_above_share.items():
        assert share >= 1 / 3, (area, share)


def test_levels_never_exceed_the_topic_maximum(bank) -> None:
    levels = {t.code: t.level for a in bank.blueprint.areas for t in a.topics}
    over = [q.id for q in questions(bank) if level_rank(q.level) > level_rank(levels[q.topic])]
    assert over == []


def test_every_item_was_checked_and_names_its_source(bank) -> None:
    unchecked = [i.id for i in bank.items if not re.match(r"^\d{4}-\d{2}-\d{2}$", i.checked)]
    assert unchecked == []
    assert [q.id for q in questions(bank) if len(q.reference) < 5] == []


def test_near_duplicate_detector_finds_a_reworded_copy() -> None:
    a = Question("a", "I.A", "apply", "Which stage of team development shows open conflict over roles?",
                 ("w", "x", "y", "z"), 0, "e. f.")
    b = Question("b", "I.A", "apply", "Which stage of team development shows open conflicts over roles?",
                 ("w", "x", "y", "z"), 0, "e. f.")
    c = Question("c", "I.A", "apply", "What does a process owner answer for?", ("w", "x", "y", "z"),
                 0, "e. f.")
    assert near_duplicate_stems([a, b, c]) == [("a", "b")]

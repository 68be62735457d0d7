"""Item-writing lint: each rule fires on a flawed item and stays quiet on a sound one."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmqprep.cli import main
from cmqprep.domain.blueprint import Area, Blueprint, Topic
from cmqprep.domain.items import Question, TermCard
from cmqprep.domain.lint import (
    binomial_tail,
    key_longest_credit,
    key_longest_cue,
    lint_items,
    stem_clue,
    unemphasized_negative,
)
from tests.conftest import SMALL_MANIFEST, term, write_pack
from tests.conftest import question as _question

BP = Blueprint("bp", 2, 0, 5, (Area("I", "One", 2, (Topic("I.A", "A", "apply"),
                                                   Topic("I.B", "B", "apply"))),))
STEMS = ["Which structure gives each engineer two bosses at once?",
         "A supplier misses three deliveries in a row. What should the buyer review first?",
         "What does a control chart show that a histogram cannot?",
         "Which leadership approach suits a crisis with no time to consult?"]
GOOD_EXPLANATION = ("The key is right because the scenario shows the defining feature of it. "
                    "The tempting distractor is wrong because it describes a different case.")


def question(qid: str, topic: str = "I.A", **kw: object) -> str:
    """conftest's question text with a distinct stem and an explanation lint accepts."""
    kw.setdefault("stem", STEMS[int(qid[1:]) % len(STEMS)])
    return _question(qid, topic, **kw).replace('"Because it is. The others are not."',
                                               repr(GOOD_EXPLANATION).replace("'", '"'))


def q(qid: str = "q1", stem: str = "Which stage of team development shows open conflict?",
      options: tuple[str, ...] = ("Forming", "Storming", "Norming", "Performing"), key: int = 1,
      explanation: str = GOOD_EXPLANATION, topic: str = "I.A") -> Question:
    return Question(qid, topic, "apply", stem, options, key, explanation, "ref")


def rules(items: list, bp: Blueprint = BP) -> list[tuple[str | None, str]]:
    return [(f.item, f.rule) for f in lint_items(items, bp)]


def covered(*items: Question) -> list:
    """The items plus a term card on I.B, so the empty-topic rule stays out of the way."""
    return [*items, TermCard("t", "I.B", "front", "back")]


def test_a_sound_item_draws_no_warning() -> None:
    assert rules(covered(q())) == []


def test_all_or_none_of_the_above() -> None:
    bad = q(options=("Forming", "Storming", "All of the above", "None of these"))
    assert rules(covered(bad)) == [("q1", "all-none"), ("q1", "all-none")]
    assert rules(covered(q(options=("Forming", "Storming", "Above all, norming", "Performing")))) == []


@pytest.mark.parametrize("stem, word", [
    ("Which of these is not a stage of team development?", "not"),
    ("All are stages of team development except which one?", "except"),
    ("A team argues. Which response is least helpful?", "least"),
])
def test_negative_stem_without_emphasis(stem: str, word: str) -> None:
    assert unemphasized_negative(stem) == word
    assert rules(covered(q(stem=stem))) == [("q1", "negative-stem")]


@pytest.mark.parametrize("stem", [
    "Which of these is NOT a stage of team development?",
    "Which of these is *not* a stage of team development?",
    "All are stages EXCEPT which one?",
    "The team did not meet for a month. Which stage follows when it does?",  # not in the question
    "Which tool needs at least three months of data?",
    "Which not-for-profit structure fits best?",
    "Which cannot be delegated?",
])
def test_emphasized_or_harmless_negatives_pass(stem: str) -> None:
    assert unemphasized_negative(stem) is None


def test_only_the_key_repeating_a_stem_word_is_a_clue() -> None:
    clang = q(stem="Which tool shows the frequency of defect categories in descending order?",
              options=("A Pareto chart of defect categories", "A run chart", "A scatter diagram",
                       "A control chart for individuals"), key=0)
    assert stem_clue(clang) == {"defect", "categories"}
    assert rules(covered(clang)) == [("q1", "stem-clue")]
    # a distractor echoing the stem too removes the clue
    fair = q(stem=clang.stem, options=("A Pareto chart of defect categories",
                                       "A run chart of defects", "A scatter diagram",
                                       "A control chart for individuals"), key=0)
    assert stem_clue(fair) == set() and rules(covered(fair)) == []
    # a distractor alone echoing the stem is no clue to the key
    assert stem_clue(q(stem=clang.stem, key=1, options=fair.options)) == set()


def test_near_duplicate_stems_are_reported_on_the_later_item() -> None:
    a = q("a", stem="Which stage of team development shows open conflict over roles?")
    b = q("b", stem="Which stage of team development shows open conflicts over roles?")
    c = q("c", stem="What does a process owner answer for in a matrix organization?")
    assert rules(covered(a, b, c)) == [("b", "near-duplicate")]


def test_short_explanation() -> None:
    assert rules(covered(q(explanation="Storming is the stage of open conflict."))) == [
        ("q1", "short-explanation")]
    assert rules(covered(q(explanation="Storming. Open conflict."))) == [
        ("q1", "short-explanation")]  # two sentences but too few words


def test_topic_without_items_is_reported_per_area() -> None:
    found = lint_items([q()], BP)
    assert [(f.rule, f.where) for f in found] == [("empty-topic", "I")]
    assert "1 of 2 topics have no items: I.B" in found[0].message
    assert rules([q(), q("q2", topic="I.B", stem="What is a process owner responsible for?")]) == []


def test_key_longest_counts_ties_as_a_share_of_chance() -> None:
    assert key_longest_credit(q(options=("aa", "bbbb", "cc", "dd"), key=1)) == 1.0
    assert key_longest_credit(q(options=("aaaa", "bbbb", "cc", "dd"), key=1)) == 0.5
    assert key_longest_credit(q(options=("aaaa", "bb", "cc", "dd"), key=1)) == 0.0
    equal = [q(f"q{i}", options=("aa", "bb", "cc", "dd"), key=i % 4) for i in range(40)]
    assert key_longest_cue(equal) is None  # every tie: exactly chance


def test_key_longest_fires_only_when_markedly_above_chance() -> None:
    def make(n_longest: int, n: int) -> list[Question]:
        out = []
        for i in range(n):
            long_key = i < n_longest
            opts = ("a", "bbbbbbbb" if long_key else "b", "cccc", "dddd")
            out.append(q(f"q{i}", stem=f"Stem number {i} about topic {i * 7}?", options=opts,
                         key=1))
        return out

    assert binomial_tail(4, 4, 0.25) == pytest.approx(0.25 ** 4)
    assert binomial_tail(10, 0, 0.3) == 1.0
    cue = key_longest_cue(make(12, 20))  # 60% vs 25%: p ~ 0.0009
    assert cue is not None and cue[0] == pytest.approx(0.6) and cue[2] < 0.01
    assert key_longest_cue(make(2, 20)) is None  # 10%: below chance
    assert key_longest_cue(make(2, 4)) is None  # 50% of 4: p = 0.26, could be luck
    assert key_longest_cue(make(290, 1000)) is None  # 29%: significant, but not marked
    assert ("key-longest" in [f.rule for f in lint_items(covered(*make(12, 20)), BP)])


def test_cli_warnings_are_located_and_strict_fails(tmp_path: Path, capsys) -> None:
    items = "\n".join([
        question("q1"),
        question("q2", stem="Which of these is not a leadership style?"),
        question("q3", "II.A", options=["Alpha", "Beta", "All of the above", "Delta"]),
        term("t1"),
    ])
    root = write_pack(tmp_path / "p", items, SMALL_MANIFEST)
    assert main(["pack", "validate", str(root)]) == 0
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    f = str(root / "items.toml")
    assert any(e.startswith(f"{f}:16: item q2: warning: [negative-stem]") for e in err)
    assert any(e.startswith(f"{f}:31: item q3: warning: [all-none]") for e in err)
    assert len(err) == 2
    assert "ok: mini 1.0.0, 3 questions, 1 term cards, 2 warning(s)" in captured.out
    assert main(["pack", "validate", "--strict", str(root)]) == 1
    assert "failed (--strict)" in capsys.readouterr().out


def test_cli_strict_passes_a_clean_pack(tmp_path: Path, capsys) -> None:
    root = write_pack(tmp_path / "p", "\n".join([question("q1"), question("q2", "II.A")]))
    assert main(["pack", "validate", "--strict", str(root)]) == 0
    assert capsys.readouterr().err == ""


def test_empty_topic_warning_points_at_the_area_in_pack_toml(tmp_path: Path, capsys) -> None:
    root = write_pack(tmp_path / "p", question("q1") + "\n" + term("t1", "I.A"))
    assert main(["pack", "validate", str(root)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    line = SMALL_MANIFEST.split("\n").index('code = "II"') + 1
    assert err == [f"{root / 'pack.toml'}:{line}: warning: [empty-topic] area II: none of its "
                   f"topics has items"]

"""Aiken import: valid files give the expected questions; each error case is located."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmqprep.packs import aiken
from cmqprep.packs.errors import PackError
from cmqprep.packs.formats import detect_format
from cmqprep.packs.native import parse_manifest
from tests.conftest import SMALL_MANIFEST

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
MINI = parse_manifest(SMALL_MANIFEST, "mini")[1]


def test_valid_fixture_with_header_topics_and_ids() -> None:
    path = FIXTURES / "valid.aiken.txt"
    assert detect_format(path) == "aiken"
    pack, warnings = aiken.read(path)
    assert (pack.manifest.id, pack.manifest.title) == ("aiken-demo", "Aiken demo")
    first, second = pack.items
    assert first.topic == "I.C.2" and first.key == 1 and first.level == "apply"
    assert first.options == ("Forming", "Storming", "Norming", "Performing")
    assert first.id.startswith("q-") and first.explanation == aiken.NO_EXPLANATION
    assert (second.id, second.topic, second.level, second.key) == ("ak-2", "I.A", "remember", 0)
    assert second.stem == "Which structure gives each person two bosses?"  # multi-line stem
    assert [(w.line, w.message.split(":")[0]) for w in warnings] == [
        (None, "Aiken has no explanations"),
        (3, "1 item(s) have no id and got ids derived from their text; editing such an item "
            "later makes it a new item (its progress is not carried over); give it a '// [id")]


def test_error_fixture_reports_each_case_at_its_line() -> None:
    path = FIXTURES / "errors.aiken.txt"
    with pytest.raises(PackError) as info:
        aiken.read(path, topic="I.A")
    got = [(p.line, p.message) for p in info.value.problems]
    assert got[:6] == [
        (1, "the question starting here has no 'ANSWER: X' line (it ends at line 5)"),
        (12, "answer 'E' is not one of the options A-D"),
        (16, "option letter C is out of order (expected B)"),
        (22, "put a space after the option letter, as in 'A) text'"),
        (33, "more than one answer (A, C): cmqprep questions have exactly one right answer"),
        (40, "text after the answer letter: 'because it is'"),
    ]
    assert got[6][0] == 42 and got[6][1] == "a question needs exactly 4 options, found 2"
    assert got[7] == (46, "an ANSWER line with no question before it")
    assert len(got) == 8


def test_without_a_topic_every_question_is_reported() -> None:
    text = "Q one?\nA. a\nB. b\nC. c\nD. d\nANSWER: A\n\nQ two?\nA. a\nB. b\nC. c\nD. d\nANSWER: B\n"
    with pytest.raises(PackError) as info:
        aiken.parse(text, "t.txt", blueprint_from=MINI)
    assert [p.line for p in info.value.problems] == [1, 8]
    assert "Aiken has no topics" in info.value.problems[0].message
    pack, _ = aiken.parse(text, "t.txt", blueprint_from=MINI, topic="II.A", level="analyze")
    assert [(q.topic, q.level, q.key) for q in pack.items] == [("II.A", "analyze", 0),
                                                               ("II.A", "analyze", 1)]


def test_answer_before_options_and_option_after_the_text() -> None:
    text = "Stem\nANSWER: A\n\nStem two\nA. a\nB. b\nC. c\nD. d\nSomething else\nANSWER: A\n"
    with pytest.raises(PackError) as info:
        aiken.parse(text, "t.txt", blueprint_from=MINI, topic="I.A")
    # "Something else" after the options starts a new question, so the one before lacks
    # its ANSWER, and the ANSWER then follows a stem with no options
    assert [str(p) for p in info.value.problems] == [
        "t.txt:2: ANSWER comes before any option (write options as 'A) text')",
        "t.txt:4: the question starting here has no 'ANSWER: X' line (it ends at line 8)",
        "t.txt:10: ANSWER comes before any option (write options as 'A) text')",
    ]


def test_exporter_refuses_stems_that_would_read_as_options() -> None:
    from cmqprep.domain.items import Question
    from cmqprep.packs.native import Manifest, Pack

    q = Question("q1", "I.A", "apply", "B) is this an option?", ("a", "b", "c", "d"), 0, "E")
    with pytest.raises(PackError) as info:
        aiken.dump(Pack(Manifest("m", "1", "t", ""), MINI, [q]))
    assert info.value.problems[0].item == "q1"
    assert "starts like an option" in info.value.problems[0].message


NEAR = st.lists(st.sampled_from([
    "Q?", "A. a", "A) a", "B. b", "C) c", "D. d", "E. e", "A)x", "ANSWER: A", "ANSWER: Z",
    "ANSWER:", "ANSWER: A B", "answer: b", "// cmqprep: topic = I.A", "// cmqprep: id = -",
    "// [id:x]", "// [level:nope]", "", "", "\t", "Z. z",
]), max_size=30).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), NEAR, st.binary(max_size=200)))
def test_any_input_raises_only_pack_error(data: str | bytes) -> None:
    try:
        pack, _ = aiken.parse(data, "f.txt", blueprint_from=MINI, topic="I.A")
    except PackError as exc:
        assert exc.problems and all(p.file == "f.txt" for p in exc.problems)
    else:
        assert pack.items

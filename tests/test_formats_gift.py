"""GIFT import: the edge-case fixture imports to the expected items; unsupported constructs are
reported with their line; any input raises only PackError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmqprep.domain.items import Question, TermCard
from cmqprep.packs import gift
from cmqprep.packs.errors import PackError
from cmqprep.packs.native import parse_manifest
from tests.conftest import SMALL_MANIFEST

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
MINI = parse_manifest(SMALL_MANIFEST, "mini")[1]


def errors(text: str, **kw: str) -> list[str]:
    with pytest.raises(PackError) as info:
        gift.parse(text, "t.gift", blueprint_from=MINI, **kw)
    return [str(p) for p in info.value.problems]


def test_edge_case_fixture_imports_to_the_expected_items() -> None:
    path = FIXTURES / "edge_cases.gift"
    pack, warnings = gift.read(path)  # the bundled CMQ/OE blueprint by default
    m = pack.manifest
    assert (m.id, m.version, m.title, m.license) == ("gift-edge", "1.2.0",
                                                     "GIFT edge cases, with a comma", "CC0-1.0")
    items = {i.id: i for i in pack.items}
    assert list(items)[:6] == ["g-escapes", "g-multiline", "g-missing-word", "g-weights",
                               "g-html", "g-term"]
    assert items["g-escapes"] == Question(
        "g-escapes", "I.A", "apply", "What does a=b {c} ~d #e : f \\ g mean?",
        ("It is a=b written with escapes", "It is a tilde ~", "It is a hash #",
         "It is a colon :"), 0,
        "Escaped characters are taken literally.\nA hard line break came before this sentence.",
        "Moodle GIFT format notes", ("escapes", "two words"))
    multi = items["g-multiline"]
    assert multi.stem == "Which stage of team development is marked by open conflict over roles?"
    assert multi.level == "understand" and multi.options[0] == "Storming" and multi.key == 0
    # per-answer feedback is kept in the explanation, one paragraph per option
    assert multi.explanation == ("Storming: Right: conflict marks storming.\n\n"
                                 "Norming: Norming comes after the conflict.")
    assert items["g-missing-word"].stem == ("The Hoshin Kanri catchball process passes _____ "
                                            "between levels of the organization.")
    assert items["g-missing-word"].topic == "II.A"
    assert items["g-weights"].key == 0 and items["g-weights"].options[0] == "Hoshin Kanri"
    html = items["g-html"]
    assert html.stem == "Which one is a <strategic> model?" and html.options[0] == "SWOT"
    assert html.explanation == "SWOT analysis feeds strategic planning.\n\nThe others are tools."
    assert items["g-term"] == TermCard("g-term", "II.A", "Catchball",
                                       "The back-and-forth negotiation of targets in Hoshin "
                                       "Kanri.", "", ("glossary",))
    unnamed = pack.items[-1]
    assert unnamed.id.startswith("q-") and unnamed.key == 1
    assert [str(w) for w in warnings] == [
        f"{path}:55: item {unnamed.id}: warning: no id: using {unnamed.id}, derived from its "
        f"text; editing such an item later makes it a new item (its progress is not carried "
        f"over); give it a '// [id:...]' comment line just before it"]
    # the derived id depends only on the text: reading again gives the same id
    assert gift.read(path)[0].items[-1].id == unnamed.id


def test_unsupported_constructs_are_reported_with_their_lines() -> None:
    path = FIXTURES / "unsupported.gift"
    with pytest.raises(PackError) as info:
        gift.read(path)
    got = [(p.line, p.message.split(";")[0]) for p in info.value.problems]
    assert got == [
        (4, "unsupported: essay questions ({})"),
        (6, "unsupported: numeric questions ({#...})"),
        (8, "unsupported: true/false questions"),
        (10, "unsupported: matching questions (=a -> b)"),
        (16, "unsupported: short-answer questions (only = answers)"),
        (20, "unsupported: more than one right answer"),
        (26, "unsupported: partial-credit weights (%50%): mark the one right answer with = and "
             "the others with ~"),
        (32, "unsupported: more than one answer block (embedded-answer/cloze questions)"),
        (34, "no answer block {...}: descriptions are not questions (mark a term card with "
             "'// [term]' and write it as ::front::back)"),
        (36, "a question needs exactly 4 options, found 3"),
        (38, "the answer block '{' is not closed with '}'"),
        (42, "category 'CMQOE/IX.Z Not a topic' names no topic code of the blueprint: end it "
             "with a topic, e.g. '$CATEGORY: CMQOE/I.A Organizational structures'"),
    ]
    assert all(p.file == str(path) for p in info.value.problems)


def test_category_rule_takes_the_rightmost_part_that_starts_with_a_topic_code() -> None:
    topics = {"I.A": "I", "I.A.1": "I", "III.B.1": "III"}
    assert gift.category_topic("$course$/top/CMQOE/III Mgmt/III.B.1 Communication", topics) \
        == "III.B.1"
    assert gift.category_topic("CMQOE/I.A.1", topics) == "I.A.1"  # the longest code wins
    assert gift.category_topic("I.A Structures/Scenario items", topics) == "I.A"
    assert gift.category_topic("CMQOE/I.AB", topics) is None
    assert gift.category_topic("CMQOE/I.A.9 Unknown", topics) is None
    assert gift.category_topic("Slash//I.A", topics) is None  # '//' is a literal slash


def test_item_problems_are_located_and_all_reported() -> None:
    text = ("// [id:a1] [topic:I.A]\nStem?{=x ~y ~z ~w}\n\n"
            "// [id:a1] [topic:I.A] [level:expert]\nOther?{=x ~y ~z ~w####Why.}\n\n"
            "// [id:a3]\nNo topic?{=x ~y ~z ~w####Why.}\n")
    assert errors(text) == [
        "t.gift:2: item a1: missing explanation",
        "t.gift:5: item a1: unknown cognitive level 'expert' (use one of remember, understand, "
        "apply, analyze, evaluate, create)",
        "t.gift:5: item a1: duplicate id 'a1' (first used on line 2)",
        "t.gift:8: item a3: no topic: put a '$CATEGORY:' line whose last part starts with a "
        "topic code (e.g. '$CATEGORY: CMQOE/I.A Organizational structures') before it, or a "
        "'// [topic:I.A]' line just before it",
    ]


def test_overrides_and_defaults_set_pack_identity_and_topic() -> None:
    text = "Q?{=a ~b ~c ~d####Why.}\n"
    pack, _ = gift.parse(text, "/x/My Quiz (v2).gift", blueprint_from=MINI, topic="II.A")
    assert (pack.manifest.id, pack.manifest.version, pack.manifest.title) == \
        ("My-Quiz-v2", "0.0.0", "My Quiz (v2)")
    assert pack.items[0].topic == "II.A" and pack.items[0].level == "apply"
    pack, _ = gift.parse("// cmqprep: id = a, version = 1.0\n\n" + text, "t.gift",
                         blueprint_from=MINI, topic="I.A", pack_id="b", version="2.0",
                         title="T")
    assert (pack.manifest.id, pack.manifest.version, pack.manifest.title) == ("b", "2.0", "T")
    assert errors(text, topic="IX") == ["t.gift: given topic 'IX' is not in the blueprint",
                                        errors(text)[0]]
    assert errors("// cmqprep: version = one\n\n// [topic:I.A]\n" + text) == [
        "t.gift:1: version 'one' must be numbers separated by dots, e.g. 1.2.0"]


def test_header_after_the_first_item_and_stray_directives() -> None:
    text = "// [topic:I.A]\nQ?{=a ~b ~c ~d####Why.}\n\n// cmqprep: title = Late\n"
    assert errors(text) == ["t.gift:4: the pack header 'title' comes after the first item: "
                            "put it at the top"]
    pack, warnings = gift.parse("// [id:lost]\n\n// [id:q] [topic:I.A]\nQ?{=a ~b ~c ~d####W}",
                                "t.gift", blueprint_from=MINI)
    assert [i.id for i in pack.items] == ["q"]
    assert [(w.line, w.message[:30]) for w in warnings] == [(1, "these [..] directives are not ")]


def test_term_cards_need_the_term_mark_and_a_title() -> None:
    assert errors("// [term] [topic:I.A]\nNo title here") == [
        "t.gift:2: a [term] card needs its front as the title: ::front::back"]
    assert errors("// [term] [topic:I.A]\n::F::Back {=a ~b}") == [
        "t.gift:2: a [term] card has no answer block: write it as ::front::back"]


def test_crlf_bom_and_bytes_are_accepted_and_bad_utf8_is_located() -> None:
    data = "\ufeff// [topic:I.A]\r\nQ?{=a ~b ~c ~d####Why.}\r\n".encode()
    pack, _ = gift.parse(data, "t.gift", blueprint_from=MINI)
    assert pack.items[0].options == ("a", "b", "c", "d")
    with pytest.raises(PackError) as info:
        gift.parse(b"ok\n\n\xff\xfe", "t.gift", blueprint_from=MINI)
    assert str(info.value) == "t.gift:3: not valid UTF-8 text (save the file as UTF-8)"


def test_exporter_refuses_tags_and_control_characters_it_cannot_hold() -> None:
    from cmqprep.packs.native import Manifest, Pack

    q = Question("q1", "I.A", "apply", "S\x1b[31m", ("a", "b", "c", "d"), 0, "E", tags=("a]b",))
    with pytest.raises(PackError) as info:
        gift.dump(Pack(Manifest("m", "1", "t", ""), MINI, [q]))
    assert [p.item for p in info.value.problems] == ["q1", "q1"]


NEAR = st.lists(st.sampled_from([
    "$CATEGORY: I.A", "$CATEGORY:", "// [id:x]", "// [id:x] [term]", "// cmqprep: id = a",
    "// cmqprep: nonsense", "::t::", "::", "{", "}", "=a", "~b", "~%50%c", "#fb", "####g",
    "[html]<p>x", "[html]<img src=x>", "{T}", "{#1:2}", "->", "\\", "\\{", "Q?", "", "",
    "// reference: r\\n", "=a -> b", "~%x%", "@@PLUGINFILE@@/a.png", "::a\\::b::c", "\t",
]), max_size=30).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), NEAR, st.binary(max_size=200)))
def test_any_input_raises_only_pack_error(data: str | bytes) -> None:
    try:
        pack, _ = gift.parse(data, "f.gift", blueprint_from=MINI)
    except PackError as exc:
        assert exc.problems and all(p.file == "f.gift" for p in exc.problems)
    else:
        assert pack.items

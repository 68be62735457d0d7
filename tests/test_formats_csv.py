"""CSV import: quoting, separators, BOM and CRLF; header and row problems located by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmqprep.domain.items import Question, TermCard
from cmqprep.packs import csvfmt
from cmqprep.packs.errors import PackError
from cmqprep.packs.formats import detect_format
from cmqprep.packs.native import Manifest, Pack, parse_manifest
from tests.conftest import SMALL_MANIFEST

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
MINI = parse_manifest(SMALL_MANIFEST, "mini")[1]
HEAD = "id,topic,stem,a,b,c,d,key,explanation\n"


def errors(text: str, **kw: str) -> list[str]:
    with pytest.raises(PackError) as info:
        csvfmt.parse(text, "t.csv", blueprint_from=MINI, **kw)
    return [str(p) for p in info.value.problems]


def test_semicolons_bom_crlf_quotes_and_line_breaks_in_cells() -> None:
    path = FIXTURES / "semicolon_bom_crlf.csv"
    assert detect_format(path) == "csv"
    pack, warnings = csvfmt.read(path)
    assert warnings == []
    assert (pack.manifest.id, pack.manifest.title) == ("csv-demo", "Spreadsheet demo, semicolons")
    q, t = pack.items
    assert q == Question("cs-1", "I.A", "understand", 'Which structure has "two bosses"?\nPick one.',
                         ("Matrix", "Functional", "Divisional; by product", "Flat"), 0,
                         "Dual reporting\n\nis the matrix hallmark.", "Galbraith 1971",
                         ("structure", "org"))
    assert t == TermCard("cs-2", "II.A", "Hoshin Kanri", "Policy deployment.")


def test_commas_inside_quoted_fields_and_a_missing_id() -> None:
    text = HEAD + ',I.A,"Stem, with comma?","a, 1",b,c,d,B,"Why, because."\n'
    pack, warnings = csvfmt.parse(text, "t.csv", blueprint_from=MINI)
    q = pack.items[0]
    assert q.options[0] == "a, 1" and q.key == 1 and q.stem == "Stem, with comma?"
    assert [(w.line, w.item) for w in warnings] == [(2, q.id)] and q.id.startswith("q-")


def test_header_problems() -> None:
    assert errors("id,topic,stem,a,b,c,key,explanaton\n") == [
        "t.csv:1: unknown column 'explanaton' (columns: id, kind, topic, level, stem, a, b, c, "
        "d, key, explanation, reference, tags, checked, front, back)",
        "t.csv:1: missing column(s): d, explanation",
    ]
    assert errors("") == ["t.csv: no header row (id, topic, stem, a, b, c, d, key, "
                          "explanation, ...)"]


def test_row_problems_are_located_by_line() -> None:
    text = (HEAD + "q1,IX.Z,S?,a,b,c,d,A,Why.\n"
            + 'q2,I.A,"Two\nlines",a,b,c,d,E,Why.\n'
            + "q3,I.A,S?,a,b,c,d,A,Why.,extra\n"
            + "q4,I.A,S?,a,a,c,d,A,\n")
    assert errors(text) == [
        "t.csv:2: item q1: unknown topic 'IX.Z' (not in the pack's blueprint)",
        "t.csv:3: item q2: key 'E' is not among the options A-D",
        "t.csv:5: this row has 10 cells but the header has 9 (a comma in unquoted text?)",
        "t.csv:6: item q4: duplicate option 'a'",
        "t.csv:6: item q4: missing explanation",
    ]


def test_kind_column_checks_the_right_cells() -> None:
    text = "id,kind,topic,stem,a,b,c,d,key,explanation,front,back\n" \
           "t1,term,I.A,,,,,,,,Front,Back\nt2,term,I.A,Stem,,,,,,,F,B\nx,card?,I.A\n"
    assert errors(text) == ["t.csv:3: item t2: a term row leaves stem empty",
                            "t.csv:4: item x: kind 'card?' must be 'question' or 'term'"]


def test_unclosed_quote_is_a_located_syntax_error() -> None:
    out = errors(HEAD + 'q1,I.A,"never closed,a,b,c,d,A,Why\n')
    assert len(out) == 1 and out[0].startswith("t.csv:2: CSV syntax error")


def test_topic_default_and_formula_guard() -> None:
    text = "#cmqprep: topic = II.A\nid,stem,a,b,c,d,key,explanation\nq1,=1+1?,'=a,+b,-c,@d,a,Why\n"
    q = csvfmt.parse(text, "t.csv", blueprint_from=MINI)[0].items[0]
    assert q.topic == "II.A" and q.stem == "=1+1?" and q.options == ("=a", "+b", "-c", "@d")
    out = csvfmt.dump(Pack(Manifest("m", "1", "t", ""), MINI, [q]))
    # exported cells that a spreadsheet would run as formulas get a leading apostrophe
    assert ",'=1+1?,'=a,'+b,'-c,'@d," in out
    assert csvfmt.parse(out, "t.csv", blueprint_from=MINI)[0].items == [q]


NEAR = st.lists(st.sampled_from([
    HEAD.strip(), "id;topic;stem;a;b;c;d;key;explanation", "q1,I.A,S,a,b,c,d,A,W", '"', '""',
    "#cmqprep: id = x", "#cmqprep: nonsense", "#", "a,b", ",,,,", "\t", "q1,I.A,S,a,b,c,d,Z,W",
    "kind,front,back", "term,F,B", "'=x", "",
]), max_size=20).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), NEAR, st.binary(max_size=200)))
def test_any_input_raises_only_pack_error(data: str | bytes) -> None:
    try:
        pack, _ = csvfmt.parse(data, "f.csv", blueprint_from=MINI, topic="I.A")
    except PackError as exc:
        assert exc.problems and all(p.file == "f.csv" for p in exc.problems)
    else:
        assert pack.items

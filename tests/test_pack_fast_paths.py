"""The shortcuts that make a large pack install fast give exactly what the plain code gives:
item hashes, new-card positions, one-line reflow, the per-entry fast path, chunked writes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cmqprep.db.engine import read_session
from cmqprep.db.models import ItemRow, PackRow
from cmqprep.domain.items import Question, TermCard, _hash, check_question, reflow
from cmqprep.packs import native_items
from cmqprep.packs.native import load_pack
from cmqprep.services import pack_rows
from cmqprep.services.pack_rows import COLUMNS, item_row
from cmqprep.services.packs import _positions, _spread, install_pack
from tests.conftest import SMALL_MANIFEST, question, term, write_pack

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_questions = st.builds(Question, _text, _text, _text, _text, st.lists(_text, max_size=5).map(tuple),
                       st.integers(-1, 4), _text, _text)
_terms = st.builds(TermCard, _text, _text, _text, _text, _text)


@given(_questions, _terms)
def test_hashes_are_those_of_the_json_documents(q: Question, t: TermCard) -> None:
    # Stored hashes must not change with the faster code, or every item of every installed
    # pack would count as edited at the next update.
    assert q.content_hash() == _hash([q.kind, q.topic, q.level, q.stem, list(q.options), q.key,
                                      q.explanation, q.reference])
    assert q.answer_hash() == _hash([list(q.options), q.key])
    assert t.content_hash() == _hash([t.kind, t.topic, t.front, t.back, t.reference])
    assert t.answer_hash() == _hash([t.back])


@given(_questions, st.lists(_text, max_size=3).map(tuple))
def test_row_json_is_json_dumps(q: Question, tags: tuple[str, ...]) -> None:
    row = dict(zip(COLUMNS, item_row(q, 1, "I", 7)))
    assert row["options"] == json.dumps(list(q.options), ensure_ascii=False)
    tagged = item_row(TermCard("t", "I.A", "f", "b", "", tags), 1, "I", 0)
    assert dict(zip(COLUMNS, tagged))["tags"] == json.dumps(list(tags),
                                                                        ensure_ascii=False)


def _spread_by_tuples(groups: list[list[str]]) -> list[str]:
    """The original formulation: sort by (fraction, group, index)."""
    ranked = [((i + 0.5) / len(g), gi, i, item) for gi, g in enumerate(groups)
              for i, item in enumerate(g)]
    return [item for *_, item in sorted(ranked, key=lambda r: r[:3])]


@given(st.lists(st.integers(1, 12), max_size=6))
def test_spread_keeps_the_original_order(sizes: list[int]) -> None:
    groups = [[f"{g}-{i}" for i in range(n)] for g, n in enumerate(sizes)]
    assert _spread(groups) == _spread_by_tuples(groups)


@given(st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)),
               max_size=40))
def test_one_line_reflow_is_the_general_case(text: str) -> None:
    # with a trailing newline the text takes the general path, which strips it first
    assert reflow(text) == reflow(text + "\n") == text.strip()


def test_duplicate_and_empty_options_are_still_reported() -> None:
    q = Question("q1", "I.A", "apply", "Stem?", ("Same  one", "same one", "", " "), 0, "Why.")
    assert check_question(q, {"I.A": "I"}) == ["an option is empty", "duplicate option 'same one'"]


_value = st.one_of(_text, st.integers(0, 3), st.booleans(), st.lists(_text, max_size=5),
                   st.lists(st.integers(0, 2), max_size=2), st.just(date(2026, 11, 21)),
                   st.sampled_from(["A", "b ", "E", "", "AB", "2026-11-21", "2026-11-21x"]))
_fields = ["id", "topic", "level", "stem", "options", "key", "explanation", "reference", "tags",
           "checked", "front", "back", "extra"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["question", "term"]), st.dictionaries(st.sampled_from(_fields), _value),
       st.data())
def test_entry_fast_path_gives_the_checked_result(kind: str, entry: dict, data) -> None:
    # Start from a valid entry most of the time, then change some of its fields.
    if data.draw(st.booleans()):
        base = ({"id": "q1", "topic": "I.A", "level": "apply", "stem": "Stem\nwrapped?",
                 "options": ["a", "b", "c", "d"], "key": "b", "explanation": "Because.",
                 "reference": ""} if kind == "question"
                else {"id": "t1", "topic": "I.A", "front": "Front", "back": "Back"})
        entry = base | entry if data.draw(st.booleans()) else base
    topics = {"I.A": "I"}
    read = native_items.read_question if kind == "question" else native_items.read_term
    fast_c, slow_c = native_items.Collector(), native_items.Collector()
    fast = read(dict(entry), "f.toml", 3, topics, fast_c)
    plain = native_items._plain_question if kind == "question" else native_items._plain_term
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(native_items, plain.__name__, lambda _entry: None)  # the checked reading only
        slow = read(dict(entry), "f.toml", 3, topics, slow_c)
    assert fast == slow
    assert fast_c.problems == slow_c.problems


def test_chunked_install_and_update_match_a_recount(ctx, tmp_path: Path, monkeypatch) -> None:
    # Tiny chunks, so every batch and IN list is split across boundaries.
    monkeypatch.setattr(pack_rows, "CHUNK", 2)
    monkeypatch.setattr(pack_rows, "IN_CHUNK", 2)
    other = SMALL_MANIFEST.replace('id = "mini"', 'id = "big"')
    v1 = [question(f"q{n}", "I.A" if n % 2 else "II.A") for n in range(9)] + \
         [term(f"t{n}") for n in range(4)]
    first = install_pack(ctx.engine, load_pack(write_pack(tmp_path / "v1", "\n".join(v1), other)),
                         1)
    assert len(first.added) == 13
    v2 = [question(f"q{n}", "I.A" if n % 2 else "II.A", key="B" if n < 3 else "A")
          for n in range(1, 9)] + [term(f"t{n}") for n in range(4)] + [question("q20", "II.A")]
    pack = load_pack(write_pack(tmp_path / "v2", "\n".join(v2),
                                other.replace('"1.0.0"', '"1.1.0"')))
    summary = install_pack(ctx.engine, pack, 2)
    assert summary.added == ["q20"] and summary.retired == ["q0"]
    assert sorted(summary.changed) == sorted(summary.reset) == ["q1", "q2"]
    assert summary.unchanged == 10
    positions, topics = _positions(pack), pack.blueprint.topic_codes()
    with read_session(ctx.engine) as s:
        big = s.scalar(select(PackRow.id).where(PackRow.key == "big"))
        rows = {r.key: r for r in s.scalars(select(ItemRow).where(ItemRow.pack_id == big))}
    assert rows["q0"].retired
    for item in pack.items:
        row = rows[item.id]
        want = dict(zip(COLUMNS, item_row(item, row.pack_id, topics[item.topic],
                                                        positions[item.id])))
        assert {c: getattr(row, c) for c in COLUMNS} == want
        assert (row.reset_ms == 2) == (item.id in ("q1", "q2"))
        assert (row.edited_ms == 2) == (item.id in ("q1", "q2"))


def test_a_key_with_an_empty_options_list_is_reported_not_a_traceback(tmp_path) -> None:
    # Found by the property test above: options = [] with a key raised IndexError.
    from cmqprep.packs.errors import PackError
    from cmqprep.packs.native import load_pack
    from tests.conftest import write_pack

    body = ('[[question]]\nid = "q1"\ntopic = "I.A"\nlevel = "Apply"\nstem = "Which?"\n'
            'options = []\nkey = "A"\nexplanation = "Because."\nreference = "Source"\n')
    pack = write_pack(tmp_path / "p", body)
    with pytest.raises(PackError) as err:
        load_pack(pack)
    text = str(err.value)
    assert "q1" in text and "has no options" in text


@pytest.mark.parametrize("key", ["AB", "bc", "ABCD"])
def test_a_key_of_several_letters_is_an_error_not_its_first_letter(tmp_path, key) -> None:
    # "AB" in "ABCD" is a substring test: it used to be read as A (and "BC" as B).
    from cmqprep.packs import csvfmt
    from cmqprep.packs.errors import PackError
    from cmqprep.packs.native import load_pack, parse_manifest
    from tests.conftest import SMALL_MANIFEST, question, write_pack

    pack = write_pack(tmp_path / "p", question("q1", key=key))
    with pytest.raises(PackError) as err:
        load_pack(pack)
    assert "q1" in str(err.value) and "key" in str(err.value)
    blueprint = parse_manifest(SMALL_MANIFEST, "mini")[1]
    with pytest.raises(PackError) as err:
        csvfmt.parse(f"id,topic,stem,a,b,c,d,key,explanation\nq1,I.A,Which?,w,x,y,z,{key},e\n",
                     "t.csv", blueprint_from=blueprint)
    assert "is not among the options" in str(err.value)

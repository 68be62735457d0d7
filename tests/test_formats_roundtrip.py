"""Round trips: native -> GIFT/CSV -> native keep items identical; Aiken keeps stems, options, keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cmqprep.domain.items import Question, TermCard, reflow
from cmqprep.packs import aiken, csvfmt, gift
from cmqprep.packs.errors import PackError
from cmqprep.packs.formats import (
    detect_format,
    export_pack,
    load_any,
    native_texts,
    write_native,
)
from cmqprep.packs.native import Manifest, Pack, load_pack, parse_manifest
from cmqprep.packs.reading import flatten
from tests.conftest import SMALL_MANIFEST

BLUEPRINT = parse_manifest(SMALL_MANIFEST, "mini")[1]
TOPICS = ["I.A", "II.A"]
# the characters the formats treat specially, plus non-ASCII and a line break
ALPHABET = st.sampled_from(list("abc XYZ019{}=~#:\\\"',;%[]()-*.\n\té€ßж漢😀/|@+"))
# authored text as the native reader leaves it (reflowed): what every export starts from
TEXT = st.text(ALPHABET, min_size=1, max_size=40).map(reflow).filter(bool)
TAG = st.text(st.sampled_from(list("abz-_ é{}=~#:,")), min_size=1, max_size=8).map(str.strip) \
    .filter(bool)
LEVEL = st.sampled_from(["remember", "understand", "apply", "analyze"])


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@st.composite
def questions(draw: st.DrawFn, n: int) -> Question:
    options = draw(st.lists(TEXT, min_size=4, max_size=4, unique_by=_norm))
    return Question(f"q{n}", draw(st.sampled_from(TOPICS)), draw(LEVEL), draw(TEXT),
                    tuple(options), draw(st.integers(0, 3)), draw(TEXT),
                    draw(st.one_of(st.just(""), TEXT)), tuple(draw(st.lists(TAG, max_size=2))),
                    draw(st.sampled_from(["", "2026-11-21"])))


@st.composite
def terms(draw: st.DrawFn, n: int) -> TermCard:
    return TermCard(f"t{n}", draw(st.sampled_from(TOPICS)), draw(TEXT), draw(TEXT),
                    draw(st.one_of(st.just(""), TEXT)), tuple(draw(st.lists(TAG, max_size=2))))


@st.composite
def packs(draw: st.DrawFn) -> Pack:
    nq, nt = draw(st.integers(1, 4)), draw(st.integers(0, 2))
    items = [draw(questions(i)) for i in range(nq)] + [draw(terms(i)) for i in range(nt)]
    title = draw(st.text(st.sampled_from(list("ab ,=é")), min_size=1, max_size=12)).strip()
    manifest = Manifest("gen-pack", "1.2.0", title or "t", "CC0-1.0")
    return Pack(manifest, BLUEPRINT, draw(st.permutations(items)))


def canonical(pack: Pack, tmp: Path) -> Pack:
    """The pack as the native reader sees it: written as a native folder and loaded back."""
    write_native(pack, tmp, overwrite=True)
    return load_pack(tmp)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])


@SETTINGS
@given(packs())
def test_native_gift_native_keeps_items(tmp_path: Path, pack: Pack) -> None:
    p0 = canonical(pack, tmp_path / "a")
    back, _ = gift.parse(gift.dump(p0), "x.gift", blueprint_from=BLUEPRINT)
    assert back.items == p0.items
    assert back.manifest == p0.manifest
    assert canonical(back, tmp_path / "b").items == p0.items


@SETTINGS
@given(packs())
def test_native_csv_native_keeps_items(tmp_path: Path, pack: Pack) -> None:
    p0 = canonical(pack, tmp_path / "a")
    back, warnings = csvfmt.parse(csvfmt.dump(p0), "x.csv", blueprint_from=BLUEPRINT)
    assert back.items == p0.items and not warnings
    assert back.manifest == p0.manifest
    assert canonical(back, tmp_path / "b").items == p0.items


@SETTINGS
@given(packs())
def test_native_writer_is_stable(tmp_path: Path, pack: Pack) -> None:
    p0 = canonical(pack, tmp_path / "a")
    assert canonical(p0, tmp_path / "b").items == p0.items
    assert native_texts(canonical(p0, tmp_path / "c")) == native_texts(p0)


@SETTINGS
@given(packs())
def test_aiken_keeps_stems_options_and_keys(tmp_path: Path, pack: Pack) -> None:
    p0 = canonical(pack, tmp_path / "a")
    qs = [i for i in p0.items if isinstance(i, Question)]
    assume(not any(aiken.unrepresentable(q) for q in qs))
    assume(all(len({_norm(flatten(o)) for o in q.options}) == 4 for q in qs))
    # Aiken ids come from the text, so identical questions collide (reported as duplicates)
    assume(len({_norm(q.stem + "|".join(q.options)) for q in qs}) == len(qs))
    back, _ = aiken.parse(aiken.dump(p0), "x.txt", blueprint_from=BLUEPRINT, topic="I.A")
    assert [(q.stem, q.options, q.key) for q in back.items] == \
        [(flatten(q.stem), tuple(flatten(o) for o in q.options), q.key) for q in qs]
    assert all("\n" not in q.stem for q in back.items)


def test_aiken_flattens_line_breaks_to_spaces() -> None:
    q = Question("q1", "I.A", "apply", "First line\nsecond line\n\nnew paragraph",
                 ("one\ntwo", "b", "c", "d"), 2, "why")
    text = aiken.dump(Pack(Manifest("m", "1", "t", ""), BLUEPRINT, [q]))
    assert text.splitlines()[:2] == ["First line second line new paragraph", "A. one two"]


def test_export_pack_and_load_any_round_trip_through_files(tmp_path: Path) -> None:
    q = Question("q1", "I.A", "apply", "Stem {with} = braces?", ("a~", "b#", "c:", "d\\"), 1,
                 "Because.", "Ref", ("x",))
    pack = Pack(Manifest("fpack", "2.0", "Files", "CC0-1.0"), BLUEPRINT, [q])
    for fmt, name in (("native", "dir"), ("gift", "p.gift"), ("csv", "p.csv")):
        export_pack(pack, fmt, tmp_path / name)
        back, _ = load_any(tmp_path / name, blueprint_from=tmp_path / "dir" if fmt != "native"
                           else None)
        assert back.items == [q], fmt
    export_pack(pack, "aiken", tmp_path / "p.txt")
    back, _ = load_any(tmp_path / "p.txt", blueprint_from=BLUEPRINT, topic="I.A")
    assert dataclasses.astuple(back.items[0])[3:6] == (q.stem, q.options, q.key)


def test_detect_format_by_name_and_content(tmp_path: Path, mini_pack: Path) -> None:
    (tmp_path / "g.txt").write_text("Q?{=a ~b ~c ~d}\n")
    (tmp_path / "a.txt").write_text("Q?\nA. a\nB. b\nANSWER: A\n")
    (tmp_path / "x.doc").write_text("?")
    assert detect_format(mini_pack) == "native"
    assert detect_format(mini_pack / "pack.toml") == "native"
    assert [detect_format(tmp_path / n) for n in ("g.txt", "a.txt", "q.gift", "q.csv")] == \
        ["gift", "aiken", "gift", "csv"]
    with pytest.raises(PackError, match="cannot tell the format"):
        detect_format(tmp_path / "x.doc")
    with pytest.raises(PackError, match="no such file"):
        detect_format(tmp_path / "missing.txt")
    pack, warnings = load_any(mini_pack, topic="I.A")
    assert pack.manifest.id == "mini" and "ignored for a native pack" in warnings[0].message


def test_write_native_refuses_a_non_empty_folder(tmp_path: Path, mini_pack: Path) -> None:
    with pytest.raises(PackError, match="is not empty"):
        write_native(load_pack(mini_pack), mini_pack)

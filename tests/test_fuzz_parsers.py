"""Fuzzing every reader of foreign files: arbitrary bytes, and near-valid documents (a valid
file with random edits). The only exception allowed out is the documented one: PackError for
packs (native, GIFT, Aiken, CSV), ProgressError for progress exports."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmqprep.domain.progress import ProgressError
from cmqprep.domain.progress import parse as parse_progress
from cmqprep.packs import aiken, csvfmt, gift
from cmqprep.packs.errors import PackError
from cmqprep.packs.native import load_pack, parse_manifest
from tests.conftest import SMALL_MANIFEST, question, term

HOSTILE = Path(__file__).parent / "hostile"
BLUEPRINT = parse_manifest(SMALL_MANIFEST, "pack.toml")[1]
NOW_MS = 1_772_463_600_000  # conftest START: after the baseline export was made
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NATIVE_ITEMS = question("q1") + "\n" + question("q2", key="B") + "\n" + term("t1")
BASELINES = {
    "gift": (HOSTILE / "gift" / "valid-baseline.gift").read_text(),
    "aiken": (HOSTILE / "aiken" / "valid-baseline.aiken").read_text(),
    "csv": (HOSTILE / "csv" / "valid-baseline.csv").read_text(),
}
PROGRESS = (HOSTILE / "progress" / "valid-baseline.json").read_text()
READERS = {"gift": gift.parse, "aiken": aiken.parse, "csv": csvfmt.parse}

# The characters these formats give meaning to, plus the ones attackers like.
SPECIAL = st.sampled_from(list("{}=~#:[]\\\"',;\t\n\r\x00\x1b\x07/$.-") + [
    "[[question]]", "[[term]]", "ANSWER:", "A.", "::", "####", "\ufeff", "\u202e", "\udcff",
    "\x1b]8;;x\x1b\\", "[@click=app.quit]", '"""', "'''", "=", "1e999", "[" * 50])
EDIT_TEXT = st.lists(st.one_of(SPECIAL, st.text(max_size=12)), max_size=6).map("".join)


@st.composite
def edited(draw, base: str) -> bytes:  # type: ignore[no-untyped-def]
    """`base` with a few random edits: cut, insert, duplicate a line, truncate, re-encode."""
    text = base
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        kind = draw(st.sampled_from(["cut", "insert", "replace", "dup-line", "truncate"]))
        if kind == "cut":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(EDIT_TEXT) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(EDIT_TEXT) + text[j:]
        elif kind == "dup-line":
            lines = text.split("\n")
            k = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:k + 1] + [lines[k]] + lines[k + 1:])
        else:
            text = text[:i]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    return data


def _native(manifest: bytes, items: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "pack.toml").write_bytes(manifest)
        (Path(d) / "items.toml").write_bytes(items)
        try:
            load_pack(d)
        except PackError as exc:
            assert exc.problems and all(p.file and p.message for p in exc.problems)


@FUZZ
@given(st.binary(max_size=2000))
def test_native_items_from_arbitrary_bytes(data: bytes) -> None:
    _native(SMALL_MANIFEST.encode(), data)


@FUZZ
@given(st.binary(max_size=2000))
def test_native_manifest_from_arbitrary_bytes(data: bytes) -> None:
    _native(data, NATIVE_ITEMS.encode())


@FUZZ
@given(st.data())
def test_native_near_valid_packs(data: st.DataObject) -> None:
    _native(data.draw(edited(SMALL_MANIFEST)), data.draw(edited(NATIVE_ITEMS)))


def _read(fmt: str, data: bytes) -> None:
    try:
        pack, warnings = READERS[fmt](data, f"fuzz.{fmt}", blueprint_from=BLUEPRINT)
    except PackError as exc:
        assert exc.problems and all(p.file == f"fuzz.{fmt}" for p in exc.problems)
    else:
        assert pack.items  # a pack that loads holds something


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.binary(max_size=2000))
def test_interchange_formats_from_arbitrary_bytes(fmt: str, data: bytes) -> None:
    _read(fmt, data)


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.data())
def test_interchange_formats_near_valid(fmt: str, data: st.DataObject) -> None:
    _read(fmt, data.draw(edited(BASELINES[fmt])))


def _progress(data: bytes) -> None:
    try:
        parse_progress(data, "fuzz.json", NOW_MS)
    except ProgressError as exc:
        assert str(exc).startswith("fuzz.json")


@FUZZ
@given(st.binary(max_size=2000))
def test_progress_from_arbitrary_bytes(data: bytes) -> None:
    _progress(data)


@FUZZ
@given(st.data())
def test_progress_near_valid_text(data: st.DataObject) -> None:
    _progress(data.draw(edited(PROGRESS)))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8)


@FUZZ
@given(st.data())
def test_progress_near_valid_structures(data: st.DataObject) -> None:
    """One value somewhere in a real export replaced by any JSON value, or one key dropped."""
    doc = json.loads(PROGRESS)
    node, key = doc, None
    for _ in range(data.draw(st.integers(1, 4))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, (dict, list)) or not child or data.draw(st.booleans()):
            break
        node, key = child, None  # go one level down and pick again there
    if key is not None:
        if data.draw(st.booleans()) or isinstance(node, list):
            node[key] = data.draw(JSON_VALUES)
        else:
            del node[key]
    _progress(json.dumps(doc).encode())

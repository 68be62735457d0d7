"""The fast TOML reader for item files agrees with tomllib wherever it answers."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cmqprep.packs import toml_subset
from cmqprep.paths import bundled_bank

# Pieces chosen to sit on the edges of the grammar: quotes and runs of quotes, every escape
# TOML knows and some it does not, surrogate and out-of-range code points, control characters,
# comments and brackets inside strings, line-ending backslashes.
_PIECES = ["a", "Z", " ", "\t", "\n", "é", "\u2028", '"', '""', '"""', "'", "''", "'''", "\\",
           "\\n", "\\t", '\\"', "\\\\", "\\b", "\\f", "\\r", "\\u00e9", "\\uD800", "\\uDFFF",
           "\\U0001F600", "\\U00110000", "\\u12", "\\x41", "\\e", "\\ \n", "\\\n  ", "\\  x",
           "\x01", "\x7f", "\x1b", "#", "[", "]", ",", "=", "[[question]]"]
_body = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)
_string = st.one_of(
    _body.map(lambda b: f'"{b}"'), _body.map(lambda b: f'"""{b}"""'),
    _body.map(lambda b: f"'{b}'"), _body.map(lambda b: f"'''{b}'''"))
_gap = st.sampled_from(["", " ", "\n", "\n  ", " # note \"x\" ]\n", "\t", "#c\n"])


@st.composite
def _array(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(_string, st.sampled_from(["1", "true", "{a = 1}", "[]"])),
                          max_size=4))
    body = "".join(f"{draw(_gap)}{p}{draw(_gap)}," for p in parts)
    if parts and draw(st.booleans()):
        body = body[:-1]  # no trailing comma
    return f"[{body}{draw(_gap)}]"


_value = st.one_of(
    _string, _array(),
    st.sampled_from(["2026-11-21", "2026-02-30", "2026-13-01", "0000-01-01", "2026-11-21T10:00:00",
                     "2026-11-21 10:00", "2026-11-21 # checked", "1", "true", "1.5", "{x = 1}",
                     "", "\"unterminated", "'''never closed"]))
_key = st.sampled_from(["id", "topic", "stem", "options", "key", "x-y_9", "1", "a.b", '"q"', "é"])
_line = st.one_of(
    st.tuples(st.sampled_from(["", " ", "\t"]), _key, st.sampled_from([" = ", "=", " =\t", " "]),
              _value, st.sampled_from(["", "  # c", "#", " x"])).map("".join),
    st.sampled_from(["[[question]]", "[[term]]", "  [[ question ]]  # q", "[question]",
                     "[[other]]", "[[question.x]]", "[[question]] x", "", "   ", "# comment",
                     "# bad \x01 char", "\x7f", "[[term]]\t#", "\u00a0id = \"x\""]))
_document = st.tuples(st.lists(_line, max_size=12), st.booleans()).map(
    lambda t: "\n".join(t[0]) + ("\n" if t[1] else ""))
# Mostly well-formed files, so that many are accepted and their values compared.
_SAFE = [p for p in _PIECES if p not in ("\x01", "\x7f", "\x1b", "\\", "\\uD800", "\\uDFFF",
                                         "\\U00110000", "\\u12", "\\x41", "\\e", "\\  x")]
_safe_body = st.lists(st.sampled_from(_SAFE), max_size=8).map("".join)
_one_line = _safe_body.map(lambda b: b.replace("\n", "").replace('"', "").replace("'", ""))
_safe_value = st.one_of(
    _one_line.map(lambda b: f'"{b}"'), _safe_body.map(lambda b: f'"""{b}"""'),
    _one_line.map(lambda b: f"'{b}'"), _safe_body.map(lambda b: f"'''{b}'''"),
    st.lists(_one_line.map(lambda b: f'"{b}"'), max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
    st.sampled_from(["2026-11-21", "[\n  'a',  # one\n  'b',\n]"]))


@st.composite
def _item_file(draw: st.DrawFn) -> str:
    out = [draw(st.sampled_from(["", "# items", "\n"]))]
    for _ in range(draw(st.integers(1, 4))):
        out.append(draw(st.sampled_from(["[[question]]", "[[term]]", " [[ term ]] # t"])))
        keys = draw(st.lists(st.sampled_from(["id", "topic", "stem", "options", "key", "back"]),
                             unique=True, max_size=5))
        out += [f"{k} = {draw(_safe_value)}{draw(st.sampled_from(['', ' # c']))}" for k in keys]
    return "\n".join(out) + draw(st.sampled_from(["", "\n"]))


_HEADER_AT = re.compile(r"^[ \t]*\[\[[ \t]*(question|term)[ \t]*\]\]")


def _agrees(text: str) -> None:
    fast = toml_subset.loads(text)
    if fast is None:
        return  # tomllib reads it (or reports the error), as before
    data, headers = fast
    assert data == tomllib.loads(text)  # raises if tomllib would refuse what we accepted
    lines = text.split("\n")
    for kind in ("question", "term"):
        assert len(headers[kind]) == len(data.get(kind, []))
        for n in headers[kind]:
            m = _HEADER_AT.match(lines[n - 1])
            assert m is not None and m.group(1) == kind


@settings(max_examples=600, deadline=None)
@given(st.one_of(_document, _item_file()))
@example('[[question]]\nstem = """\nSay "hi" and ""go""."""\n')
@example('[[question]]\nstem = """line \\\n    joined"""\n')
@example("[[term]]\nfront = '''\nraw \\n'''\nback = 'x'\n")
@example('[[question]]\noptions = [\n  "a", # first "one"\n  \'b\',\n]\n')
def test_fast_reader_agrees_with_tomllib(text: str) -> None:
    _agrees(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_document, _item_file()), st.data())
def test_fast_reader_agrees_after_a_random_edit(text: str, data: st.DataObject) -> None:
    if not text:
        return
    at = data.draw(st.integers(0, len(text) - 1))
    edit = data.draw(st.sampled_from(["", '"', "'", "\\", "\n", "#", "]", "[", "\x00", "x"]))
    _agrees(text[:at] + edit + text[at + data.draw(st.integers(0, 1)):])


def test_plain_item_files_take_the_fast_path() -> None:
    # Falling back silently would only make installs slow; this notices it.
    files = [p for p in bundled_bank().glob("*.toml") if p.name != "pack.toml"]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        fast = toml_subset.loads(text)
        assert fast is not None, path.name
        assert fast[0] == tomllib.loads(text)


def test_values_of_every_kind() -> None:
    text = ('# items\n[[question]]  # first\nid = "q1"\nstem = """\nTwo\nlines \\u00e9"""\n'
            "options = ['A', \"B\\tb\", '''C''', \"\"\"D\"\"\",]\nchecked = 2026-11-21\n\n"
            "[[ term ]]\nfront = 'C:\\path'\nback = \"\"\n")
    data, headers = toml_subset.loads(text)
    assert data == {"question": [{"id": "q1", "stem": "Two\nlines \u00e9",
                                  "options": ["A", "B\tb", "C", "D"],
                                  "checked": date(2026, 11, 21)}],
                    "term": [{"front": "C:\\path", "back": ""}]}
    assert headers == {"question": [2], "term": [10]}


def test_what_it_leaves_to_tomllib() -> None:
    for text in ['title = "root key"\n[[question]]\nid = "a"\n',  # a key outside any item
                 '[[question]]\nid = "a"\nid = "b"\n',  # duplicate key: tomllib's error
                 '[[question]]\nid = "a"\r\n',  # CR: tomllib folds CRLF itself
                 '[[question]]\nstem = """ends in quotes""""\n',
                 '[[question]]\nstem = "\\uD800"\n',  # not a Unicode scalar value
                 '[[question]]\nkey = 1\n', '[[question]]\nchecked = 2026-02-30\n',
                 '[question]\nid = "a"\n', '[[question]]\nopts = [1, 2]\n']:
        assert toml_subset.loads(text) is None, text


def test_bench_sized_file_shape(tmp_path: Path) -> None:
    # The shape bench/import_big.py writes (one-line JSON-style strings) is read fast.
    text = "\n".join(f'[[question]]\nid = "q{n}"\nstem = "S\\"{n}\\u00e9"\n'
                     f'options = ["a", "b", "c", "d"]\nkey = "A"\n' for n in range(50))
    data, headers = toml_subset.loads(text)
    assert data == tomllib.loads(text)
    assert headers["question"] == [1 + 6 * n for n in range(50)]

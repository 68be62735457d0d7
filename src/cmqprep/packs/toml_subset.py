"""A fast reader for the plain TOML that item files are written in; anything else goes to tomllib.

tomllib reads strings one character at a time in Python, which made it the bulk of installing a
large pack (14 s for 100,000 items). Item files use a small part of TOML: `[[question]]` and
`[[term]]` headers, bare keys, strings (all four kinds), arrays of strings and dates. `loads`
reads exactly that part with whole-token regular expressions. It returns None as soon as it
meets anything else (root keys, numbers, inline tables, dotted keys, a header it does not know,
a string ending in extra quotes, a bad escape, a duplicate key...), and the caller then gives
the file to tomllib, which produces the result or the located syntax error as before. So on
the files it accepts it must give what tomllib gives; tests/test_pack_toml_subset.py compares
the two on generated and mutated files.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

# Control characters TOML forbids: tab is allowed everywhere, newline only in multi-line strings.
_CTRL = r"\x00-\x08\x0a-\x1f\x7f"
_CTRL_ML = r"\x00-\x08\x0b-\x1f\x7f"
_ESC = r'\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})'
# Possessive quantifiers (Python 3.11): a token, once read, is never re-split, as in tomllib.
# A multi-line string's closing delimiter must not be followed by a further quote: tomllib
# would take up to two of them as content, so those (rare) strings go to tomllib instead.
_ML_BASIC = rf'"""\n?+((?:[^"\\{_CTRL_ML}]++|"(?!"")|{_ESC}|\\[ \t]*+\n[ \t\n]*+)*+)"""(?!")'
_BASIC = rf'"((?:[^"\\{_CTRL}]++|{_ESC})*+)"'
_ML_LITERAL = rf"'''\n?+((?:[^'{_CTRL_ML}]++|'(?!''))*+)'''(?!')"
_LITERAL = rf"'([^'{_CTRL}]*+)'"
_STRING = f"{_ML_BASIC}|{_BASIC}|{_ML_LITERAL}|{_LITERAL}"
_DATE = r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_END = rf"[ \t]*+(?:#[^{_CTRL}]*+)?+(?:\n|\Z)"

_GAP = rf"(?:[ \t\n]++|#[^{_CTRL}]*+)*+"  # between array elements: blanks, newlines, comments
_PLAIN_STRING = re.sub(r"\((?!\?)", "(?:", _STRING)  # the same, without capturing groups
_ARRAY = rf"\[{_GAP}(?:(?:{_PLAIN_STRING}){_GAP},{_GAP})*+(?:(?:{_PLAIN_STRING}){_GAP})?+\]"

# One line (an array may span several): blank or comment; a header (group 1); or `key = value`
# (key: group 2) whose value is one of the four kinds of string (groups 3-6), a date (7-9) or an
# array of strings (10); which one matched is the match's lastindex. Any other character is
# group 11: it matches wherever a line does not, so the matches cover the text with no gap, and
# a group 11 means the text leaves the subset.
_LINE = re.compile(
    r"[ \t]*+(?:"
    r"\[\[[ \t]*+(question|term)[ \t]*+\]\]"
    rf"|([A-Za-z0-9_-]++)[ \t]*+=[ \t]*+(?:{_STRING}|{_DATE}|({_ARRAY}))"
    rf")?+{_END}|(.)",
    re.S,
)
_ARRAY_STRING = re.compile(_STRING)
_GAP_RE = re.compile(_GAP)
_ESCAPES = re.compile(r'\\(?:([btnfr"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|[ \t]*\n[ \t\n]*)')
_SIMPLE = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _Outside(Exception):
    """The text leaves the subset: let tomllib read it."""


def _unescape(m: re.Match[str]) -> str:
    simple, short, long = m.groups()
    if simple is not None:
        return _SIMPLE[simple]
    if short is None and long is None:
        return ""  # a line-ending backslash (multi-line strings only: the pattern says where)
    code = int(short or long, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _Outside  # tomllib reports it as an error
    return chr(code)


def _basic(raw: str) -> str:
    """A basic string's value from its text between the quotes (escapes already checked)."""
    return raw if "\\" not in raw else _ESCAPES.sub(_unescape, raw)


def _array(span: str) -> list[str]:
    """The strings of an array token (its text, brackets included)."""
    if "#" in span:  # a comment may hold quotes: read element by element
        out: list[str] = []
        pos = _GAP_RE.match(span, 1).end()
        while not span.startswith("]", pos):
            m = _ARRAY_STRING.match(span, pos)
            out.append(_basic(m.group(m.lastindex)) if m.lastindex <= 2 else m.group(m.lastindex))
            pos = _GAP_RE.match(span, m.end()).end()
            if span.startswith(",", pos):
                pos = _GAP_RE.match(span, pos + 1).end()
        return out
    # Without comments only the elements hold quotes, so searching finds exactly them.
    return [_basic(m.group(m.lastindex)) if m.lastindex <= 2 else m.group(m.lastindex)
            for m in _ARRAY_STRING.finditer(span)]


def loads(text: str) -> tuple[dict[str, Any], dict[str, list[int]]] | None:
    """Read an item file: (what tomllib.loads gives, header line numbers per kind), or None."""
    try:
        return _loads(text)
    except _Outside:
        return None


def _loads(text: str) -> tuple[dict[str, Any], dict[str, list[int]]]:
    if "\r" in text:
        raise _Outside  # tomllib folds CRLF inside strings; readers hand us folded text anyway
    data: dict[str, Any] = {}
    headers: dict[str, list[int]] = {"question": [], "term": []}
    table: dict[str, Any] | None = None  # None: still at the root, where no key is accepted
    line, counted = 1, 0
    for m in _LINE.finditer(text):
        which = m.lastindex
        if which is None:
            continue  # a blank or comment line
        if which == 1:
            start = m.start(1)
            line += text.count("\n", counted, start)
            counted = start
            kind = m.group(1)
            headers[kind].append(line)
            table = {}
            data.setdefault(kind, []).append(table)
            continue
        if which == 11:
            raise _Outside
        key = m.group(2)
        if table is None or key in table:
            raise _Outside
        if which <= 4:
            table[key] = _basic(m.group(which))
        elif which <= 6:
            table[key] = m.group(which)
        elif which == 10:
            table[key] = _array(m.group(10))
        else:
            try:
                table[key] = date(*map(int, m.group(7, 8, 9)))
            except ValueError:
                raise _Outside from None
    return data, headers

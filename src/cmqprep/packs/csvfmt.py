"""CSV import and export: one item per row under a header row, for instructors using spreadsheets.

Columns (any order, names case-insensitive): id, kind, topic, level, stem, a, b, c, d, key,
explanation, reference, tags, checked, front, back. Rows whose first cell starts with '#' and
whose other cells are empty are comments; `#cmqprep: key = value` rows give the pack header.
Comma, semicolon and tab separators are recognized from the header row. See docs/interchange.md.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from cmqprep.domain.blueprint import Blueprint
from cmqprep.domain.items import Question, key_index
from cmqprep.packs.errors import PackError, Problem, read_text
from cmqprep.packs.native import Pack
from cmqprep.packs.reading import (
    CONTROL,
    Builder,
    check_text_exportable,
    decode,
    flatten,
    header_pairs,
    load_blueprint,
)

COLUMNS = ("id", "kind", "topic", "level", "stem", "a", "b", "c", "d", "key", "explanation",
           "reference", "tags", "checked", "front", "back")
ALIASES = {"question": "stem", "answer": "key", "correct": "key", "bok": "topic",
           "bok_code": "topic", "cognitive_level": "level", "option_a": "a", "option_b": "b",
           "option_c": "c", "option_d": "d", "type": "kind", "feedback": "explanation"}
QUESTION_ONLY = ("level", "stem", "a", "b", "c", "d", "key", "explanation")
TERM_ONLY = ("front", "back")
TAG_SEPARATOR = ";"
_FORMULA = re.compile(r"'*[=+\-@]")  # what spreadsheets would run as a formula
ID_HINT = "a value in the id column"
TOPIC_HINT = "fill the topic column (e.g. I.A) or add a '#cmqprep: topic = I.A' row at the top"


def _tidy(cell: str) -> str:
    """Cell text: a leading apostrophe (formula guard) removed, each line trimmed, runs of
    blank lines made one. Line breaks inside a cell are kept: they were typed on purpose."""
    if cell.startswith("'") and _FORMULA.match(cell):
        cell = cell[1:]
    lines = [ln.strip() for ln in cell.strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _separator(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: (counts[s], s == ","))


def _rows(text: str, b: Builder) -> list[tuple[int, list[str]]]:
    lines = text.split("\n")
    head = next((ln for ln in lines if ln.strip() and not ln.lstrip().lstrip('"').startswith("#")),
                "")
    reader = csv.reader(io.StringIO(text), delimiter=_separator(head), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        b.error(f"CSV syntax error: {exc} (an unclosed quote?)", start)
    return rows


def parse(data: str | bytes, display: str = "<csv>", *,
          blueprint_from: Blueprint | str | Path | None = None, name: str = "",
          **overrides: str | None) -> tuple[Pack, list[Problem]]:
    """Read CSV text (or bytes); returns (pack, warnings) or raises PackError."""
    text = decode(data, display)
    b = Builder(display, load_blueprint(blueprint_from), overrides, id_hint=ID_HINT,
                topic_hint=TOPIC_HINT)
    header: dict[str, int] | None = None
    width = 0
    for n, row in _rows(text, b):
        if not any(c.strip() for c in row):
            continue
        if row[0].lstrip().startswith("#") and not any(c.strip() for c in row[1:]):
            pairs = header_pairs(row[0].lstrip()[1:])
            for key, value in pairs or ():
                b.set_header(key, value, n)
            continue
        if header is None:
            header, width = _header(b, row, n), len(row)
            if header is None:
                break
            continue
        if len(row) > width and any(c.strip() for c in row[width:]):
            b.error(f"this row has {len(row)} cells but the header has {width} (a comma in "
                    f"unquoted text?)", n)
            continue
        cells = {col: _tidy(row[i]) if i < len(row) else "" for col, i in header.items()}
        _item(b, n, cells)
    if header is None and not b.problems:
        b.error("no header row (id, topic, stem, a, b, c, d, key, explanation, ...)")
    return b.finish(name or Path(display).stem)


def _header(b: Builder, row: list[str], n: int) -> dict[str, int] | None:
    header: dict[str, int] = {}
    ok = True
    for i, raw in enumerate(row):
        col = re.sub(r"[\s-]+", "_", raw.strip().lower().removeprefix("\ufeff"))
        col = ALIASES.get(col, col)
        if not col:
            continue
        if col not in COLUMNS:
            b.error(f"unknown column {raw.strip()!r} (columns: {', '.join(COLUMNS)})", n)
            ok = False
        elif col in header:
            b.error(f"column {col!r} appears twice", n)
            ok = False
        else:
            header[col] = i
    terms_only = "stem" not in header and ("front" in header or "back" in header)
    needed = ["front", "back"] if terms_only else ["stem", "a", "b", "c", "d", "key",
                                                    "explanation"]
    missing = [c for c in needed if c not in header]
    if missing:
        b.error(f"missing column(s): {', '.join(missing)}", n)
        ok = False
    return header if ok else None


def _item(b: Builder, n: int, cells: dict[str, str]) -> None:
    kind = cells.get("kind", "").lower() or "question"
    kind = {"q": "question", "t": "term", "card": "term"}.get(kind, kind)
    iid = cells.get("id") or None
    tags = tuple(t.strip() for t in cells.get("tags", "").split(TAG_SEPARATOR) if t.strip())
    topic = cells.get("topic") or None
    if kind not in ("question", "term"):
        b.error(f"kind {cells['kind']!r} must be 'question' or 'term'", n, iid)
        return
    other = TERM_ONLY if kind == "question" else QUESTION_ONLY
    filled = [c for c in other if cells.get(c)]
    if filled:
        b.error(f"a {kind} row leaves {', '.join(filled)} empty", n, iid)
        return
    if kind == "term":
        b.add_term(n, tid=iid, topic=topic, front=cells.get("front", ""),
                   back=cells.get("back", ""),
                   reference=cells.get("reference", ""), tags=tags,
                   checked=cells.get("checked", ""))
        return
    key = key_index(cells.get("key", ""))
    if key is None:
        b.error(f"key {cells.get('key', '')!r} is not among the options A-D", n, iid)
        return
    b.add_question(n, qid=iid, topic=topic, level=cells.get("level") or None,
                   stem=cells.get("stem", ""), options=[cells.get(c, "") for c in "abcd"],
                   key=key, explanation=cells.get("explanation", ""),
                   reference=cells.get("reference", ""), tags=tags,
                   checked=cells.get("checked", ""))


def read(path: str | Path, *, blueprint_from: Blueprint | str | Path | None = None,
         **overrides: str | None) -> tuple[Pack, list[Problem]]:
    path = Path(path)
    return parse(read_text(path, str(path)), str(path), blueprint_from=blueprint_from,
                 name=path.stem, **overrides)


# --- export --------------------------------------------------------------------------------

def _cell(text: str) -> str:
    # a spreadsheet would run "=..." as a formula: guard with an apostrophe, which _tidy removes
    return "'" + text if _FORMULA.match(text) else text


def dump(pack: Pack) -> str:
    """The pack as CSV (comma-separated, UTF-8) that `parse` reads back to the same items."""
    where = f"{pack.manifest.id} (CSV export)"
    problems = check_text_exportable(pack.items, where, "CSV", TAG_SEPARATOR)
    if problems:
        raise PackError(problems)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    m = pack.manifest
    for key, value in (("id", m.id), ("version", m.version), ("title", m.title),
                       ("license", m.license), ("description", m.description)):
        if value:
            w.writerow([f"#cmqprep: {key} = {flatten(CONTROL.sub(' ', value))}"])
    w.writerow(COLUMNS)
    for item in pack.items:
        row = dict.fromkeys(COLUMNS, "")
        row.update(id=item.id, kind=item.kind, topic=item.topic, reference=item.reference,
                   tags=TAG_SEPARATOR.join(item.tags), checked=item.checked)
        if isinstance(item, Question):
            row.update(level=item.level, stem=item.stem, key=item.key_letter,
                       explanation=item.explanation,
                       **{c: o for c, o in zip("abcd", item.options)})
        else:
            row.update(front=item.front, back=item.back)
        w.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def losses(pack: Pack) -> list[Problem]:
    return [Problem(f"{pack.manifest.id} (CSV export)", "the blueprint is not in the file: "
                    "import it with the same blueprint", severity="warning")]

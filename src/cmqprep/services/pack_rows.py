"""Writing item rows fast: their values as tuples, and statements run with executemany on the
session's own DBAPI connection, in chunks, inside the session's transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from cmqprep.db.engine import translated_errors
from cmqprep.db.models import ItemRow
from cmqprep.db.prepared import Prepared
from cmqprep.domain.items import Item, Question

T = TypeVar("T")
CHUNK = 2_000  # rows per executemany: memory stays bounded, round trips stay few
IN_CHUNK = 500  # ids per IN (...) list, far below any backend's parameter limit

_STR = json.encoder.encode_basestring  # one JSON string, as json.dumps(ensure_ascii=False) writes it
# Item columns a pack writes, in the table's order; the first two never change on an update.
COLUMNS = ("pack_id", "key", "kind", "area", "topic", "level", "prompt", "options", "answer",
           "explanation", "reference", "tags", "checked", "content_hash", "answer_hash",
           "position", "retired")
EDITED = COLUMNS[2:] + ("edited_ms", "reset_ms")


def item_row(item: Item, pack_id: int, area: str, position: int) -> tuple[Any, ...]:
    """The values of an item's row, in COLUMNS order."""
    if isinstance(item, Question):
        kind, level, prompt, answer = "question", item.level, item.stem, item.key
        options, explanation = _json_list(item.options), item.explanation
    else:
        kind, level, prompt, answer = "term", "", item.front, -1
        options, explanation = "[]", item.back
    tags = _json_list(item.tags) if item.tags else "[]"
    return (pack_id, item.id, kind, area, item.topic, level, prompt, options, answer,
            explanation, item.reference, tags, item.checked, item.content_hash(),
            item.answer_hash(), position, False)


def _json_list(values: tuple[str, ...]) -> str:
    """json.dumps(list(values), ensure_ascii=False), without the encoder's set-up per call."""
    return "[" + ", ".join(map(_STR, values)) + "]"


def chunks(seq: Sequence[T], n: int | None = None) -> Iterator[Sequence[T]]:
    """Slices of at most n (IN_CHUNK by default) elements, for IN (...) lists."""
    n = n or IN_CHUNK
    for start in range(0, len(seq), n):
        yield seq[start:start + n]


class Batch:
    """One statement run with executemany on the session's own DBAPI connection (inside its
    transaction), rows given as tuples in `names` order. The ORM's bulk insert spent four
    times what SQLite did on 100,000 rows; this costs little more than sqlite3 itself."""

    def __init__(self, s: Session, stmt: Executable, names: Sequence[str],
                 columns: Sequence[str] | None = None):
        conn = s.connection()
        dialect: Dialect = conn.dialect
        p = Prepared(stmt, dialect, columns)  # an insert names its columns
        self.sql, self.cursor, self.engine = p.sql, conn.connection.cursor(), conn.engine
        order = list(p.order) if p.order is not None else None
        self.shape: Callable[[tuple[Any, ...]], Any] | None
        if order is None:  # a named paramstyle
            self.shape = lambda row: dict(zip(names, row))
        elif order == list(names):
            self.shape = None
        else:
            where = [list(names).index(n) for n in order]
            self.shape = lambda row: [row[i] for i in where]
        self.rows: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            rows = self.rows if self.shape is None else [self.shape(r) for r in self.rows]
            with translated_errors(self.engine):
                self.cursor.executemany(self.sql, rows)
            self.rows = []


def by_id(values: Sequence[str]) -> Executable:
    """UPDATE items SET each of `values` from the parameter b_<name>, WHERE id = b_id."""
    t = ItemRow.__table__
    return update(t).where(t.c.id == bindparam("b_id")).values(
        {name: bindparam(f"b_{name}") for name in values})

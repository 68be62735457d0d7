"""Merging a full progress export into a profile: streamed, in chunks, in one transaction.

The file is read once (domain/progress_stream.py), a chunk of reviews at a time; each chunk is
checked against the log (same id, same content: already here; other content: refused) and its
new reviews inserted with one executemany, so memory holds a chunk, the set of items touched,
and a 64-bit prefix of each review id for spotting ids the file repeats (about 70 bytes a review
in a Python set: 70 MB for a million). Any refusal raises before the transaction commits, so
a bad file changes nothing.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from cmqprep.db.models import ProfileRow, ReviewRow
from cmqprep.db.prepared import Prepared
from cmqprep.domain.progress import ProgressError, Review, describe_conflict

LOOKUP = 900  # ids per IN (...) query: under every backend's parameter limit
_COLUMNS = ("id", "profile_id", "pack_key", "item_key", "reviewed_ms", "rating", "duration_ms",
            "source", "state_before", "chosen", "correct")
_pack_item = operator.itemgetter(1, 2)  # a Review's (pack, item)
_STORED = (ReviewRow.profile_id, ReviewRow.id, ReviewRow.pack_key, ReviewRow.item_key,
           ReviewRow.reviewed_ms, ReviewRow.rating, ReviewRow.duration_ms, ReviewRow.source,
           ReviewRow.state_before, ReviewRow.chosen, ReviewRow.correct)


@dataclass
class ImportReport:
    source: str
    name: str
    member_id: str
    exported_ms: int
    same_member: bool
    profile_name: str
    in_file: int = 0
    added: int = 0
    present: int = 0
    not_installed_reviews: int = 0
    not_installed_items: int = 0
    rebuilt: int = 0
    packs_missing: list[str] = field(default_factory=list)


Chunks = Iterable[tuple[int, list[Review]]]
"""(file index of the first review, reviews in file order)."""


class Merger:
    """Adds the new reviews of successive chunks to a profile's log, inside the caller's
    transaction, and counts what it did in the report."""

    def __init__(self, conn: Connection, profile_id: int, source: str, report: ImportReport,
                 rescan: Callable[[], Chunks]):
        self.conn, self.profile_id, self.source, self.report = conn, profile_id, source, report
        self.rescan = rescan  # the file's reviews again, to locate a repeated id (error path)
        self.touched: Counter[tuple[str, str]] = Counter()
        # Ids are 32 hex digits; their first 16 as an int (8 bytes of entropy) flag the ids the
        # file may repeat. A flagged id is then told apart exactly by its stored row.
        self._seen: set[int] = set()
        self._log_was_empty = conn.execute(select(ReviewRow.id).limit(1)).first() is None
        stmt = Prepared(insert(ReviewRow.__table__), conn.dialect, _COLUMNS)
        order = stmt.order or list(_COLUMNS)
        self._insert_sql = stmt.sql
        self._positional = stmt.order is not None
        self._order = [_COLUMNS.index(c) for c in order]
        self._table_order = self._positional and list(order) == list(_COLUMNS)
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        keys = [bindparam(f"k{n}") for n in range(LOOKUP)]
        self._lookup_stmt = Prepared(select(*_STORED).where(ReviewRow.id.in_(keys)),
                                     conn.dialect)

    def add(self, first: int, reviews: list[Review]) -> None:
        fresh: dict[str, tuple[int, Review]] = {}
        suspects: set[str] = set()
        seen = self._seen
        for i, r in enumerate(reviews, first):
            rid = r.id
            earlier = fresh.get(rid)
            if earlier is not None:  # repeated within this chunk
                if earlier[1] != r:
                    raise self._repeat_error(i, r, earlier[0])
                continue
            fresh[rid] = (i, r)
            key = int(rid[:16], 16)
            if key in seen:
                suspects.add(rid)
            else:
                seen.add(key)
        look = list(fresh) if not self._log_was_empty else list(suspects)
        for part in _parts(look, LOOKUP):
            for row in self._lookup(part):
                self._stored(fresh, suspects, row)
        self.report.in_file += len(fresh)
        new = [r for _, r in fresh.values()]
        if new:
            self._insert(new)

    def _stored(self, fresh: dict[str, tuple[int, Review]], suspects: set[str], row: Any) -> None:
        """A chunk's review whose id is already stored: here before, or earlier in the file."""
        if row[0] != self.profile_id:
            other = self.conn.scalar(select(ProfileRow.name).where(ProfileRow.id == row[0]))
            raise ProgressError(f"{self.source}: review id {row[1]} is already in this database "
                                f"under the profile {other!r}; a review belongs to one profile "
                                f"only")
        i, r = fresh.pop(row[1])
        correct = row[10]  # the DBAPI may give the Boolean column as 0/1
        stored = Review._make((*row[1:10], None if correct is None else bool(correct)))
        if stored == r:
            # A flagged id is counted as a repeat of the file's own (a stored review sharing
            # its first 16 digits with another id of the file would only shift the counts).
            if row[1] not in suspects:
                self.report.present += 1
                self.report.in_file += 1
            return
        j = self._first_index(r.id, i) if row[1] in suspects else None
        if j is not None:
            raise self._repeat_error(i, r, j)
        raise ProgressError(f"{self.source}: the file disagrees with the review log here (was "
                            f"it edited?): {describe_conflict(r, stored)}")

    def _lookup(self, ids: list[str]) -> list[Any]:
        """Stored rows with these ids, by one statement compiled once (always LOOKUP
        parameters, the unused ones an id no review has), run on the DBAPI cursor."""
        values = {f"k{n}": rid for n, rid in enumerate(ids)}
        values.update((f"k{n}", "") for n in range(len(ids), LOOKUP))
        self._cursor.execute(self._lookup_stmt.sql, self._lookup_stmt.args(values))
        return self._cursor.fetchall()

    def _first_index(self, rid: str, before: int) -> int | None:
        for first, reviews in self.rescan():
            if first >= before:
                return None
            for i, r in enumerate(reviews, first):
                if i >= before:
                    return None
                if r.id == rid:
                    return i
        return None

    def _repeat_error(self, i: int, r: Review, j: int) -> ProgressError:
        return ProgressError(f"{self.source}: review {i} (id {r.id}): review {j} has the same "
                             f"id and different content")

    def _insert(self, new: list[Review]) -> None:
        pid = self.profile_id
        if self._table_order:  # the common case, built in one C-level pass per row
            rows: list[Any] = [(r[0], pid, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
                               for r in new]
        else:
            rows = []
            for r in new:
                values = (r.id, pid, *r[1:])
                rows.append(tuple(values[k] for k in self._order) if self._positional
                            else dict(zip(_COLUMNS, values, strict=True)))
        self.touched.update(map(_pack_item, new))
        self._cursor.executemany(self._insert_sql, rows)
        self.report.added += len(rows)


def _parts(seq: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]

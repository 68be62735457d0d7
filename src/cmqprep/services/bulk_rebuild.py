"""Rebuilding many schedule rows of one profile at once from its review log.

Same rules as schedule_store.rebuild (replay in (time, id) order, reviews before an item's reset
instant skipped, a row with nothing left is deleted unless it keeps a suspension or a flag), but
with a few set-based queries instead of two per item: merging a large progress file touches
tens of thousands of items. A test checks both give identical rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, bindparam, delete, insert, select, tuple_, update

from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.db.prepared import Prepared
from cmqprep.domain.scheduling import SchedState, SchedulerConfig, replay_sorted

CHUNK = 900  # values per IN (...): under every backend's parameter limit
SCAN_ABOVE = 2000  # with more items than this, one ordered scan beats many IN queries
BATCH = 5000  # schedule rows written at a time


class ItemKey(NamedTuple):
    id: int
    pack_key: str
    item_key: str
    area: str
    reset_ms: int | None


def _chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def installed_items(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[ItemKey]:
    """The installed items among (pack key, item key) pairs (retired ones included)."""
    cols = select(ItemRow.id, PackRow.key, ItemRow.key, ItemRow.area, ItemRow.reset_ms).join(
        PackRow, PackRow.id == ItemRow.pack_id)
    if len(keys) > SCAN_ABOVE:
        wanted = set(keys)
        return [ItemKey(*r) for r in conn.execute(cols) if (r[1], r[2]) in wanted]
    out: list[ItemKey] = []
    for part in _chunks(list(keys), CHUNK // 2):
        out.extend(ItemKey(*r) for r in conn.execute(
            cols.where(tuple_(PackRow.key, ItemRow.key).in_(part))))
    return out


def _logs(conn: Connection, profile_id: int, items: Sequence[ItemKey]
          ) -> Iterator[tuple[ItemKey, list[tuple[int, int, str]]]]:
    """Each item's replayable log (time, rating, id) in (time, id) order, one at a time.

    The reviews come in (pack, item, time) order, which the ix_reviews_item index gives
    without a sort, and are grouped as they come, so only one item's log is in memory. Ties in
    time (rare) are put in id order here: asking the database for that order too makes it sort
    the whole result."""
    by_key = {(i.pack_key, i.item_key): i for i in items}
    base = select(ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms,
                  ReviewRow.rating, ReviewRow.id).where(ReviewRow.profile_id == profile_id)
    order = (ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms)
    if len(items) > SCAN_ABOVE:
        batches = [_raw_rows(conn, base.order_by(*order))]
    else:
        batches = [conn.execution_options(yield_per=10_000).execute(
            base.where(tuple_(ReviewRow.pack_key, ReviewRow.item_key).in_(part))
            .order_by(*order)).partitions() for part in _chunks(list(by_key), CHUNK // 2)]
    for batch in batches:
        pack: str | None = None
        key: str | None = None
        item: ItemKey | None = None
        log: list[tuple[int, int, str]] = []
        tie = False
        for rows in batch:
            for pack_key, item_key, at, rating, rid in rows:
                if item_key != key or pack_key != pack:
                    if item is not None and log:
                        yield item, _in_id_order(log) if tie else log
                    pack, key, log, tie = pack_key, item_key, [], False
                    item = by_key.get((pack_key, item_key))
                if item is not None and (item.reset_ms is None or at >= item.reset_ms):
                    if log and log[-1][0] == at:
                        tie = True
                    log.append((at, rating, rid))
        if item is not None and log:
            yield item, _in_id_order(log) if tie else log


def _raw_rows(conn: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """A million-row read straight from the DBAPI cursor, in batches of plain tuples: the
    statement is compiled once for the dialect, and SQLAlchemy's per-row result processing
    (about a microsecond a row) is skipped; these columns need no type conversion."""
    stmt = Prepared(query, conn.dialect)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(stmt.sql, stmt.args({}))
        while rows := cursor.fetchmany(10_000):
            yield rows
    finally:
        cursor.close()


def _in_id_order(log: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    return sorted(log, key=lambda r: (r[0], r[2]))


def _existing(conn: Connection, profile_id: int, items: Sequence[ItemKey]
              ) -> dict[int, tuple[bool, bool]]:
    """item id -> (suspended, flagged) of the profile's schedule rows among these items."""
    base = select(ScheduleRow.item_id, ScheduleRow.suspended, ScheduleRow.flagged).where(
        ScheduleRow.profile_id == profile_id)
    if len(items) > SCAN_ABOVE:
        wanted = {i.id for i in items}
        return {r[0]: (bool(r[1]), bool(r[2])) for r in conn.execute(base) if r[0] in wanted}
    out: dict[int, tuple[bool, bool]] = {}
    for part in _chunks([i.id for i in items]):
        out.update((r[0], (bool(r[1]), bool(r[2])))
                   for r in conn.execute(base.where(ScheduleRow.item_id.in_(part))))
    return out


_STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due_ms", "last_review_ms", "reps",
                  "lapses")


def _values(st: SchedState, prefix: str = "") -> dict[str, Any]:
    return {prefix + c: getattr(st, c) for c in _STATE_COLUMNS}


def rebuild_bulk(conn: Connection, profile_id: int, items: Sequence[ItemKey],
                 cfg: SchedulerConfig) -> int:
    """Replay each item's log into the profile's schedule row; returns the rows written.

    Rows are written in batches as the logs stream by, so memory holds one batch."""
    if not items:
        return 0
    existing = _existing(conn, profile_id, items)
    table = ScheduleRow.__table__
    update_stmt = update(table).where(table.c.profile_id == profile_id,
                                      table.c.item_id == bindparam("k_item")).values(
        {c: bindparam("v_" + c) for c in _STATE_COLUMNS})
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    written = 0

    def flush() -> int:
        if inserts:
            conn.execute(insert(table), inserts)
        if updates:
            conn.execute(update_stmt, updates)
        n = len(inserts) + len(updates)
        inserts.clear()
        updates.clear()
        return n

    replayed: set[int] = set()
    for item, log in _logs(conn, profile_id, items):
        replayed.add(item.id)
        st = replay_sorted(log, cfg)
        if item.id not in existing:
            inserts.append(_values(st) | {"profile_id": profile_id, "item_id": item.id,
                                          "area": item.area, "suspended": False,
                                          "flagged": False})
        else:
            updates.append(_values(st, "v_") | {"k_item": item.id})
        if len(inserts) + len(updates) >= BATCH:
            written += flush()
    deletes = []
    for item in items:  # items with nothing left to replay (all reviews before a reset)
        marks = existing.get(item.id)
        if item.id in replayed or marks is None:
            continue
        if not any(marks):
            deletes.append(item.id)
        else:
            updates.append(_values(SchedState(), "v_") | {"k_item": item.id})
    written += flush()
    for part in _chunks(deletes):
        conn.execute(delete(table).where(table.c.profile_id == profile_id,
                                         table.c.item_id.in_(part)))
    return written + len(deletes)

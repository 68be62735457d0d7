"""Rebuilding many schedule rows of one profile at once from its review log.

Same rules as schedule_store.rebuild (replay in (time, id) order, reviews before an item's reset
instant skipped, a row with nothing left is deleted unless it keeps a suspension or a flag), but
with a few set-based queries instead of two per item: merging a large progress file touches
tens of thousands of items. A test checks both give identical rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import Grade, SchedState, SchedulerConfig, replay

CHUNK = 900  # values per IN (...): under every backend's parameter limit
SCAN_ABOVE = 2000  # with more items than this, one ordered scan beats many IN queries


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
          ) -> dict[tuple[str, str], list[tuple[int, Grade]]]:
    by_key = {(i.pack_key, i.item_key): i for i in items}
    base = select(ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms,
                  ReviewRow.rating).where(ReviewRow.profile_id == profile_id)
    order = (ReviewRow.reviewed_ms, ReviewRow.id)
    if len(items) > SCAN_ABOVE:
        queries = [base.order_by(*order)]
    else:
        queries = [base.where(tuple_(ReviewRow.pack_key, ReviewRow.item_key).in_(part))
                   .order_by(*order) for part in _chunks(list(by_key), CHUNK // 2)]
    grades = {int(g): g for g in Grade}
    logs: dict[tuple[str, str], list[tuple[int, Grade]]] = defaultdict(list)
    for q in queries:
        for pack_key, item_key, at, rating in conn.execute(q):
            item = by_key.get((pack_key, item_key))
            if item is not None and (item.reset_ms is None or at >= item.reset_ms):
                logs[(pack_key, item_key)].append((at, grades[rating]))
    return logs


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
    """Replay each item's log into the profile's schedule row; returns the rows written."""
    if not items:
        return 0
    logs = _logs(conn, profile_id, items)
    existing = _existing(conn, profile_id, items)
    inserts, updates, deletes = [], [], []
    for item in items:
        log = logs.get((item.pack_key, item.item_key))
        marks = existing.get(item.id)
        if not log:
            if marks is None:
                continue
            if not any(marks):
                deletes.append(item.id)
            else:
                updates.append(_values(SchedState(), "v_") | {"k_item": item.id})
            continue
        st = replay(log, cfg)
        if marks is None:
            inserts.append(_values(st) | {"profile_id": profile_id, "item_id": item.id,
                                          "area": item.area, "suspended": False,
                                          "flagged": False})
        else:
            updates.append(_values(st, "v_") | {"k_item": item.id})
    table = ScheduleRow.__table__
    for part in _chunks(inserts, 5000):
        conn.execute(insert(table), list(part))
    if updates:
        stmt = update(table).where(table.c.profile_id == profile_id,
                                   table.c.item_id == bindparam("k_item")).values(
            {c: bindparam("v_" + c) for c in _STATE_COLUMNS})
        for part in _chunks(updates, 5000):
            conn.execute(stmt, list(part))
    for part in _chunks(deletes):
        conn.execute(delete(table).where(table.c.profile_id == profile_id,
                                         table.c.item_id.in_(part)))
    return len(inserts) + len(updates) + len(deletes)

"""Reading and writing schedule rows, and rebuilding them from the review log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import NEW, Grade, SchedState, SchedulerConfig, replay


def state_of(row: ScheduleRow | None) -> SchedState:
    if row is None:
        return SchedState()
    return SchedState(row.state, row.step, row.stability, row.difficulty, row.due_ms,
                      row.last_review_ms, row.reps, row.lapses)


def write_state(session: Session, profile_id: int, item: ItemRow, st: SchedState,
                row: ScheduleRow | None) -> ScheduleRow:
    return write_state_for(session, profile_id, item.id, item.area, st, row)


def write_state_for(session: Session, profile_id: int, item_id: int, area: str, st: SchedState,
                    row: ScheduleRow | None) -> ScheduleRow:
    if row is None:
        row = ScheduleRow(profile_id=profile_id, item_id=item_id, area=area,
                          suspended=False, flagged=False)
        session.add(row)
    row.state, row.step, row.stability, row.difficulty = st.state, st.step, st.stability, st.difficulty
    row.due_ms, row.last_review_ms, row.reps, row.lapses = st.due_ms, st.last_review_ms, st.reps, st.lapses
    return row


def rebuild(session: Session, items: Iterable[ItemRow], cfg_for: dict[int, SchedulerConfig],
            profile_id: int | None = None) -> int:
    """Replay the review log of each item (per profile) into its schedule row.

    Reviews before the item's reset instant are kept in the log but not replayed. A profile
    with no remaining reviews of an item gets a NEW state (suspension and flags are kept).
    Returns the number of schedule rows written.
    """
    items = list(items)
    if not items:
        return 0
    pack_keys = dict(session.execute(select(PackRow.id, PackRow.key)).all())
    written = 0
    for item in items:
        pack_key = pack_keys[item.pack_id]
        q = select(ReviewRow.profile_id, ReviewRow.reviewed_ms, ReviewRow.rating).where(
            ReviewRow.pack_key == pack_key, ReviewRow.item_key == item.key
        ).order_by(ReviewRow.reviewed_ms, ReviewRow.id)
        if profile_id is not None:
            q = q.where(ReviewRow.profile_id == profile_id)
        per_profile: dict[int, list[tuple[int, Grade]]] = defaultdict(list)
        for pid, at, rating in session.execute(q):
            if item.reset_ms is None or at >= item.reset_ms:
                per_profile[pid].append((at, Grade(rating)))
        rows_q = select(ScheduleRow).where(ScheduleRow.item_id == item.id)
        if profile_id is not None:
            rows_q = rows_q.where(ScheduleRow.profile_id == profile_id)
        rows = {r.profile_id: r for r in session.scalars(rows_q)}
        for pid in set(per_profile) | set(rows):
            reviews = per_profile.get(pid, [])
            row = rows.get(pid)
            if not reviews and row is not None and not (row.suspended or row.flagged):
                session.execute(delete(ScheduleRow).where(ScheduleRow.profile_id == pid,
                                                          ScheduleRow.item_id == item.id))
                written += 1
                continue
            st = replay(reviews, cfg_for.get(pid, SchedulerConfig())) if reviews else SchedState(NEW)
            write_state(session, pid, item, st, row)
            written += 1
    return written

"""The study loop's statements: SQLAlchemy Core, compiled once per dialect (db/prepared).

The ORM costs several times the SQL itself on this path (identity map, unit of work, flush);
answering a card and fetching the next one runs these prepared statements instead.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, case, func, insert, null, or_, select, update
from sqlalchemy.engine import Dialect

from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.db.prepared import Prepared
from cmqprep.domain.scheduling import LEARNING, NEW, RELEARNING, REVIEW

items = ItemRow.__table__
sched = ScheduleRow.__table__
reviews = ReviewRow.__table__
packs = PackRow.__table__

# What a CardView needs, read for the one card picked. The queue queries return only ids (and
# what the queue needs): they then run on covering indexes, and skipping rows of retired items
# (which stay due for ever) does not read their wide item rows.
CARD_COLUMNS = (items.c.id, items.c.pack_id, items.c.key, items.c.kind, items.c.area,
                items.c.topic, items.c.level, items.c.prompt, items.c.options, items.c.answer,
                items.c.explanation, items.c.reference)
CARD = select(*CARD_COLUMNS).where(items.c.id == bindparam("iid"))

STATE_COLUMNS = (sched.c.state, sched.c.step, sched.c.stability, sched.c.difficulty,
                 sched.c.due_ms, sched.c.last_review_ms, sched.c.reps, sched.c.lapses)

STATE_BY_KEY = select(*STATE_COLUMNS).where(sched.c.profile_id == bindparam("pid"),
                                            sched.c.item_id == bindparam("iid"))

# Only new and review states count against limits: two sums in one pass (a GROUP BY would
# sort the day's reviews first).
DONE_TODAY = (select(func.sum(case((reviews.c.state_before == NEW, 1), else_=0)),
                     func.sum(case((reviews.c.state_before == REVIEW, 1), else_=0)))
              .where(reviews.c.profile_id == bindparam("pid"),
                     reviews.c.reviewed_ms >= bindparam("start"), reviews.c.source == "study"))

PACK_KEYS = select(packs.c.id, packs.c.key)

REVIEW_KEYS = [c.key for c in reviews.columns]
SCHED_KEYS = [c.key for c in sched.columns]
_STATE_NAMES = ("state", "step", "stability", "difficulty", "due_ms", "last_review_ms", "reps",
                "lapses")
# Parameter names may not equal column names in an UPDATE's SET clause, hence the "v_" prefix.
UPDATE_STATE = (update(sched)
                .where(sched.c.profile_id == bindparam("k_pid"), sched.c.item_id == bindparam("k_iid"))
                .values({n: bindparam(f"v_{n}") for n in _STATE_NAMES}))


@cache
def candidates(kind: str, by_area: bool) -> Select:
    """The next two cards of one queue bucket (parameters: pid, before or from_pos, area)."""
    if kind == "new":
        seen = select(sched.c.item_id).where(sched.c.profile_id == bindparam("pid"),
                                             sched.c.item_id == items.c.id)
        # from_pos: every live item before this position is known to have been seen already,
        # so the scan starts there instead of walking past the whole studied part of the bank.
        q = select(items.c.id, null().label("state"), items.c.position).where(
            items.c.retired.is_(False), items.c.position >= bindparam("from_pos"), ~seen.exists())
        if by_area:
            q = q.where(items.c.area == bindparam("area"))
        return q.order_by(items.c.position).limit(2)
    if kind == "review":
        state = sched.c.state == REVIEW
    else:
        state = or_(sched.c.state == LEARNING, sched.c.state == RELEARNING)
    q = (select(sched.c.item_id.label("id"), sched.c.state, null().label("position"))
         .select_from(sched.join(items, and_(items.c.id == sched.c.item_id,
                                             items.c.retired.is_(False))))
         .where(sched.c.profile_id == bindparam("pid"), sched.c.suspended.is_(False), state,
                sched.c.due_ms <= bindparam("before")))
    if kind == "missed":
        q = q.where(sched.c.step == 0)
    if by_area:
        q = q.where(sched.c.area == bindparam("area"))
    return q.order_by(sched.c.due_ms).limit(2)


class StudySQL:
    """The study loop's statements compiled for one dialect."""

    def __init__(self, dialect: Dialect):
        self.state_by_key = Prepared(STATE_BY_KEY, dialect)
        self.done_today = Prepared(DONE_TODAY, dialect)
        self.pack_keys = Prepared(PACK_KEYS, dialect)
        self.card = Prepared(CARD, dialect)
        self.insert_review = Prepared(insert(reviews), dialect, REVIEW_KEYS)
        self.insert_state = Prepared(insert(sched), dialect, SCHED_KEYS)
        self.update_state = Prepared(UPDATE_STATE, dialect)
        self.candidates = {(kind, by_area): Prepared(candidates(kind, by_area), dialect)
                           for kind in ("learning", "review", "new", "missed")
                           for by_area in (False, True)}


@cache
def for_dialect(dialect: Dialect) -> StudySQL:
    return StudySQL(dialect)

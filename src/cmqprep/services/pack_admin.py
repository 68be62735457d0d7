"""Managing installed packs: listing them, what `pack show` and `pack export` read, removing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import (
    AreaRow,
    AttemptQuestionRow,
    AttemptRow,
    ItemRow,
    PackRow,
    ReviewRow,
    ScheduleRow,
    TopicRow,
)
from cmqprep.domain.blueprint import Area, Blueprint, Topic
from cmqprep.domain.coverage import ItemFacts
from cmqprep.domain.items import Item, Question, TermCard
from cmqprep.packs.native import Manifest, Pack
from cmqprep.services.packs import is_removed


@dataclass
class PackInfo:
    key: str
    version: str
    title: str
    license: str
    questions: int
    terms: int
    retired: int
    removed: bool = False


def list_packs(engine: Engine, include_removed: bool = False) -> list[PackInfo]:
    with read_session(engine) as s:
        with_areas = set(s.scalars(select(AreaRow.pack_id).distinct()))
        counts: dict[tuple[int, str, bool], int] = {
            (pid, kind, retired): n for pid, kind, retired, n in s.execute(
                select(ItemRow.pack_id, ItemRow.kind, ItemRow.retired, func.count())
                .group_by(ItemRow.pack_id, ItemRow.kind, ItemRow.retired))}
        out = []
        for p in s.scalars(select(PackRow).order_by(PackRow.key)):
            removed = p.id not in with_areas
            if removed and not include_removed:
                continue
            out.append(PackInfo(p.key, p.version, p.title, p.license,
                                counts.get((p.id, "question", False), 0),
                                counts.get((p.id, "term", False), 0),
                                counts.get((p.id, "question", True), 0)
                                + counts.get((p.id, "term", True), 0), removed))
        return out


def pack_coverage(engine: Engine, key: str) -> tuple[PackRow, Blueprint, list[ItemFacts]] | None:
    """An installed pack's blueprint and the facts of its live items (for `pack show`)."""
    with read_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == key))
        if row is None or is_removed(s, row.id):
            return None
        bp = _blueprint_of(s, row)
        facts = [ItemFacts(*r) for r in s.execute(
            select(ItemRow.area, ItemRow.topic, ItemRow.kind, ItemRow.level).where(
                ItemRow.pack_id == row.id, ItemRow.retired.is_(False)))]
        return row, bp, facts


def _blueprint_of(s: Session, row: PackRow) -> Blueprint:
    areas = []
    for a in s.scalars(select(AreaRow).where(AreaRow.pack_id == row.id).order_by(AreaRow.position)):
        topics = tuple(Topic(t.code, t.title, t.level) for t in s.scalars(
            select(TopicRow).where(TopicRow.area_id == a.id).order_by(TopicRow.position)))
        areas.append(Area(a.code, a.title, a.scored, topics))
    return Blueprint(row.exam_name, row.exam_scored, row.exam_unscored, row.exam_minutes,
                     tuple(areas))


def pack_from_db(engine: Engine, key: str) -> Pack | None:
    """An installed pack rebuilt from the database (live items only), for `pack export`.

    Items come in blueprint topic order, questions before term cards, then by id."""
    with read_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == key))
        if row is None or is_removed(s, row.id):
            return None
        bp = _blueprint_of(s, row)
        order = {t.code: n for n, t in enumerate(t for a in bp.areas for t in a.topics)}
        rows = s.scalars(select(ItemRow).where(ItemRow.pack_id == row.id,
                                               ItemRow.retired.is_(False))).all()
        rows = sorted(rows, key=lambda r: (order.get(r.topic, len(order)), r.kind != "question",
                                           _natural(r.key)))
        items: list[Item] = []
        for r in rows:
            tags = tuple(json.loads(r.tags or "[]"))
            if r.kind == "question":
                items.append(Question(r.key, r.topic, r.level, r.prompt,
                                      tuple(json.loads(r.options)), r.answer, r.explanation,
                                      r.reference, tags, r.checked or ""))
            else:
                items.append(TermCard(r.key, r.topic, r.prompt, r.explanation, r.reference, tags,
                                      r.checked or ""))
        manifest = Manifest(row.key, row.version, row.title, row.license or "",
                            row.description or "")
        return Pack(manifest, bp, items, source=f"database pack {row.key}")


def _natural(text: str) -> tuple:
    """Sort key that orders 'q2' before 'q10'."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                 for p in re.split(r"(\d+)", text) if p)


class PackNotInstalled(Exception):
    def __init__(self, key: str):
        self.key = key
        super().__init__(f"no installed pack {key!r}; see 'cmqprep pack list'")


@dataclass
class RemovalImpact:
    """What `pack remove` touches (counted before, and reported after, the removal)."""

    pack: str
    version: str
    items: int  # items that stop being studied (all of them, for a purge)
    reviews: int  # review-log rows naming the pack (deleted only with purge)
    learners: int  # profiles with reviews of the pack
    schedules: int  # schedule rows of the pack's items
    attempts: int  # quiz/exam attempts that include one of its items
    purge: bool = False

    def lines(self) -> list[str]:
        if self.purge:
            return [f"Purged {self.pack} {self.version}: {self.items} item(s), {self.reviews} "
                    f"review(s) of {self.learners} learner(s), {self.schedules} schedule row(s); "
                    f"its questions were taken out of {self.attempts} quiz/exam attempt(s)"]
        return [f"Removed {self.pack} {self.version}: {self.items} item(s) are no longer studied",
                f"  progress kept: {self.reviews} review(s) of {self.learners} learner(s); "
                f"installing the pack again brings it back"]


def _impact(s: Session, row: PackRow, purge: bool) -> RemovalImpact:
    items = select(ItemRow.id).where(ItemRow.pack_id == row.id)
    live = s.scalar(select(func.count()).where(
        ItemRow.pack_id == row.id, *(() if purge else (ItemRow.retired.is_(False),))))
    reviews, learners = s.execute(select(func.count(), func.count(ReviewRow.profile_id.distinct()))
                                  .where(ReviewRow.pack_key == row.key)).one()
    schedules = s.scalar(select(func.count()).select_from(ScheduleRow)
                         .where(ScheduleRow.item_id.in_(items)))
    attempts = s.scalar(select(func.count(AttemptQuestionRow.attempt_id.distinct()))
                        .where(AttemptQuestionRow.item_id.in_(items)))
    return RemovalImpact(row.key, row.version, live or 0, reviews, learners, schedules or 0,
                         attempts or 0, purge)


def _removable(s: Session, key: str, purge: bool) -> PackRow:
    """The pack to remove; a pack removed earlier can still be purged."""
    row = s.scalar(select(PackRow).where(PackRow.key == key))
    if row is None or (is_removed(s, row.id) and not purge):
        raise PackNotInstalled(key)
    return row


def removal_impact(engine: Engine, key: str, purge: bool = False) -> RemovalImpact:
    with read_session(engine) as s:
        return _impact(s, _removable(s, key, purge), purge)


def remove_pack(engine: Engine, key: str, purge: bool = False) -> RemovalImpact:
    """Remove an installed pack in one transaction.

    Without purge the items are retired and the blueprint dropped, so nothing of the pack is
    studied, drawn into quizzes or listed, while the review log, schedule rows (with their
    suspensions and flags) and quiz/exam attempts stay. Installing the pack again restores it.
    With purge, the pack, its items and every review, schedule row and attempt question of
    them are deleted; attempts keep their other questions and are re-scored without them.
    """
    with write_session(engine) as s:
        row = _removable(s, key, purge)
        impact = _impact(s, row, purge)
        items = select(ItemRow.id).where(ItemRow.pack_id == row.id)
        s.execute(delete(TopicRow).where(TopicRow.area_id.in_(
            select(AreaRow.id).where(AreaRow.pack_id == row.id))))
        s.execute(delete(AreaRow).where(AreaRow.pack_id == row.id))
        if not purge:
            s.execute(update(ItemRow).where(ItemRow.pack_id == row.id).values(retired=True))
            # A blueprint-less pack must not look like the longest exam to quiz assembly.
            row.exam_scored = row.exam_unscored = 0
            return impact
        touched = list(s.scalars(select(AttemptQuestionRow.attempt_id).distinct()
                                 .where(AttemptQuestionRow.item_id.in_(items))))
        s.execute(delete(AttemptQuestionRow).where(AttemptQuestionRow.item_id.in_(items)))
        for attempt_id in touched:
            _compact_attempt(s, attempt_id)
        s.execute(delete(ScheduleRow).where(ScheduleRow.item_id.in_(items)))
        s.execute(delete(ReviewRow).where(ReviewRow.pack_key == row.key))
        s.execute(delete(ItemRow).where(ItemRow.pack_id == row.id))
        s.execute(delete(PackRow).where(PackRow.id == row.id))
        return impact


def _compact_attempt(s: Session, attempt_id: str) -> None:
    """After some of an attempt's questions were purged: renumber the rest 0..n-1 (in their
    order) and re-score a submitted attempt; an attempt left empty is deleted."""
    attempt = s.get(AttemptRow, attempt_id)
    rows = list(s.scalars(select(AttemptQuestionRow).where(
        AttemptQuestionRow.attempt_id == attempt_id).order_by(AttemptQuestionRow.position)))
    if attempt is None:
        return
    if not rows:
        s.delete(attempt)
        return
    scored = sum(1 for aq in rows if aq.scored)
    correct = sum(1 for aq in rows if aq.scored and aq.correct and aq.chosen is not None)
    old_positions = [aq.position for aq in rows]
    for aq in rows:
        s.expunge(aq)  # their primary keys change below, behind the session's back
    # Ascending order moves each row to a lower or equal, already vacated position.
    for new, old in enumerate(old_positions):
        if old != new:
            s.execute(update(AttemptQuestionRow).where(
                AttemptQuestionRow.attempt_id == attempt_id,
                AttemptQuestionRow.position == old).values(position=new)
                .execution_options(synchronize_session=False))
    attempt.current = min(attempt.current, len(rows) - 1)
    if attempt.submitted_ms is not None:
        attempt.scored, attempt.correct = scored, correct

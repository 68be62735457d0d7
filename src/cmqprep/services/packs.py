"""Installing, updating, listing and validating question packs."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, insert, select, update
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
from cmqprep.packs.native import Manifest, Pack, version_key
from cmqprep.services.schedule_store import rebuild
from cmqprep.services.settings_cache import scheduler_configs


class OlderVersionError(Exception):
    def __init__(self, key: str, installed: str, offered: str):
        self.key, self.installed, self.offered = key, installed, offered
        super().__init__(f"pack {key} {installed} is installed; {offered} is older")


@dataclass
class InstallSummary:
    pack: str
    version: str
    previous: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)  # changed key or options: schedule reset
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # retired before, back unchanged
    applied_reviews: int = 0  # schedule rows rebuilt from reviews imported before the pack
    reset_schedules: int = 0  # schedule rows with progress that the reset started again
    reset_learners: int = 0  # profiles those rows belong to

    def lines(self) -> list[str]:
        head = (f"Installed {self.pack} {self.version}" if self.previous is None
                else f"Updated {self.pack} {self.previous} -> {self.version}")
        counts = (f"  added {len(self.added)}, changed {len(self.changed)}, "
                  f"unchanged {self.unchanged}, retired {len(self.retired)}")
        if self.restored:
            counts += f", restored {len(self.restored)} (with their progress)"
        out = [head, counts]
        if self.reset:
            out.append(f"  {len(self.reset)} changed item(s) had their key or options edited: "
                       f"their schedule starts again (history kept); "
                       f"{self.reset_learners} learner(s) had progress on them reset "
                       f"({self.reset_schedules} schedule(s))")
        if self.applied_reviews:
            out.append(f"  applied earlier-imported reviews to {self.applied_reviews} item(s)")
        return out


def _row_values(item: Item) -> dict:
    if isinstance(item, Question):
        return dict(kind="question", level=item.level, prompt=item.stem,
                    options=json.dumps(list(item.options), ensure_ascii=False), answer=item.key,
                    explanation=item.explanation)
    return dict(kind="term", level="", prompt=item.front, options="[]", answer=-1,
                explanation=item.back)


def _spread(groups: list[list[Item]]) -> list[Item]:
    """Merge ordered groups so each is spread evenly through the result (in proportion)."""
    ranked = [((i + 0.5) / len(g), gi, i, item) for gi, g in enumerate(groups)
              for i, item in enumerate(g)]
    return [item for *_, item in sorted(ranked, key=lambda r: r[:3])]


def _positions(pack: Pack) -> dict[str, int]:
    """The order new cards come in: areas, topics and term cards interleave in proportion,
    so a learner meets every area, every topic and both kinds of card from the first day."""
    by_topic: dict[str, list[Item]] = defaultdict(list)
    for item in pack.items:
        by_topic[item.topic].append(item)
    per_area = []
    for area in pack.blueprint.areas:
        kinds = []
        for kind in ("question", "term"):
            topics = [[i for i in by_topic.get(t.code, []) if i.kind == kind] for t in area.topics]
            kinds.append(_spread([t for t in topics if t]))
        per_area.append(_spread([k for k in kinds if k]))
    ordered = _spread([a for a in per_area if a])
    return {item.id: n for n, item in enumerate(ordered)}


def _is_removed(s: Session, pack_id: int) -> bool:
    """A removed pack keeps its row and its (retired) items but has no blueprint left; every
    installed pack has at least one area, so the missing blueprint is the mark."""
    return s.scalar(select(AreaRow.id).where(AreaRow.pack_id == pack_id).limit(1)) is None


def install_pack(engine: Engine, pack: Pack, now_ms: int, allow_older: bool = False) -> InstallSummary:
    """Install or update a pack in one transaction: all of it lands, or nothing does.

    Items are matched by id: unchanged items keep everything; edited items keep their history
    (and their schedule, unless the key or options changed); items no longer in the pack are
    retired, never deleted.
    """
    m = pack.manifest
    topics = pack.blueprint.topic_codes()
    positions = _positions(pack)
    with write_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == m.id))
        removed = row is not None and _is_removed(s, row.id)
        # A removed pack installs afresh (no older-version question); its items come back
        # with the progress the review log still holds.
        previous = row.version if row is not None and not removed else None
        if previous is not None and version_key(previous) > version_key(m.version) and not allow_older:
            raise OlderVersionError(m.id, row.version, m.version)
        bp = pack.blueprint
        if row is None:
            row = PackRow(key=m.id, installed_ms=now_ms, version=m.version, title=m.title)
            s.add(row)
        row.version, row.title, row.license, row.description = m.version, m.title, m.license, m.description
        row.installed_ms = now_ms
        row.exam_name, row.exam_scored = bp.name, bp.scored
        row.exam_unscored, row.exam_minutes = bp.unscored, bp.minutes
        s.flush()
        s.execute(delete(TopicRow).where(TopicRow.area_id.in_(
            select(AreaRow.id).where(AreaRow.pack_id == row.id))))
        s.execute(delete(AreaRow).where(AreaRow.pack_id == row.id))
        for apos, area in enumerate(bp.areas):
            arow = AreaRow(pack_id=row.id, code=area.code, title=area.title, scored=area.scored,
                           position=apos)
            s.add(arow)
            s.flush()
            s.add_all(TopicRow(area_id=arow.id, code=t.code, title=t.title, level=t.level,
                               position=tpos) for tpos, t in enumerate(area.topics))
        existing = {r.key: r for r in s.execute(
            select(ItemRow.id, ItemRow.key, ItemRow.content_hash, ItemRow.answer_hash,
                   ItemRow.retired).where(ItemRow.pack_id == row.id))}
        summary = InstallSummary(m.id, m.version, previous)
        inserts, updates, reset_ids, back_ids = [], [], [], []
        for item in pack.items:
            values = _row_values(item) | dict(
                key=item.id, area=topics[item.topic], topic=item.topic, reference=item.reference,
                tags=json.dumps(list(item.tags), ensure_ascii=False), checked=item.checked,
                content_hash=item.content_hash(), answer_hash=item.answer_hash(),
                position=positions[item.id], retired=False)
            old = existing.get(item.id)
            if old is None:
                inserts.append(values | dict(pack_id=row.id))
                summary.added.append(item.id)
            elif old.content_hash == values["content_hash"] and not old.retired:
                summary.unchanged += 1
                updates.append(dict(id=old.id, position=values["position"]))
            elif old.content_hash == values["content_hash"]:
                summary.restored.append(item.id)
                back_ids.append(old.id)
                updates.append(dict(id=old.id, position=values["position"], retired=False))
            else:
                if old.retired:
                    back_ids.append(old.id)
                values |= dict(id=old.id, edited_ms=now_ms)
                if old.answer_hash != values["answer_hash"]:
                    values["reset_ms"] = now_ms
                    reset_ids.append(old.id)
                    summary.reset.append(item.id)
                updates.append(values)
                summary.changed.append(item.id)
        keys = {i.id for i in pack.items}
        gone = [r for k, r in existing.items() if k not in keys and not r.retired]
        summary.retired = sorted(r.key for r in gone)
        if inserts:
            s.execute(insert(ItemRow), inserts)
        if updates:
            s.execute(update(ItemRow), updates)
        if gone:
            s.execute(update(ItemRow).where(ItemRow.id.in_([r.id for r in gone]))
                      .values(retired=True))
        if reset_ids:
            progressed = s.execute(select(func.count(), func.count(ScheduleRow.profile_id.distinct()))
                                   .where(ScheduleRow.item_id.in_(reset_ids), ScheduleRow.reps > 0)).one()
            summary.reset_schedules, summary.reset_learners = progressed
            # The item becomes new again; rows kept only to remember a suspension or a flag.
            s.execute(delete(ScheduleRow).where(
                ScheduleRow.item_id.in_(reset_ids), ScheduleRow.suspended.is_(False),
                ScheduleRow.flagged.is_(False)))
            s.execute(update(ScheduleRow).where(ScheduleRow.item_id.in_(reset_ids)).values(
                state=0, step=None, stability=None, difficulty=None, due_ms=None,
                last_review_ms=None, reps=0, lapses=0))
        if back_ids:
            # Retired items coming back: their schedule is whatever the review log says now
            # (reviews may have been merged in while they were away).
            s.flush()
            rebuild(s, s.scalars(select(ItemRow).where(ItemRow.id.in_(back_ids))).all(),
                    scheduler_configs(s))
        if summary.added:
            # Reviews imported before this pack was installed apply now.
            have = set(s.scalars(select(ReviewRow.item_key).where(
                ReviewRow.pack_key == m.id).distinct()))
            pending = [k for k in summary.added if k in have]
            if pending:
                rows = s.scalars(select(ItemRow).where(ItemRow.pack_id == row.id,
                                                       ItemRow.key.in_(pending))).all()
                summary.applied_reviews = rebuild(s, rows, scheduler_configs(s))
    return summary


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


def installed_version(engine: Engine, key: str) -> str | None:
    with read_session(engine) as s:
        return s.scalar(select(PackRow.version).where(PackRow.key == key))


def pack_coverage(engine: Engine, key: str) -> tuple[PackRow, Blueprint, list[ItemFacts]] | None:
    """An installed pack's blueprint and the facts of its live items (for `pack show`)."""
    with read_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == key))
        if row is None or _is_removed(s, row.id):
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
        if row is None or _is_removed(s, row.id):
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
    if row is None or (_is_removed(s, row.id) and not purge):
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

"""Installing, updating, listing and validating question packs."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, insert, select, update

from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import AreaRow, ItemRow, PackRow, ReviewRow, ScheduleRow, TopicRow
from cmqprep.domain.blueprint import Area, Blueprint, Topic
from cmqprep.domain.coverage import ItemFacts
from cmqprep.domain.items import Item, Question
from cmqprep.packs.native import Pack, version_key
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
    applied_reviews: int = 0  # schedule rows rebuilt from reviews imported before the pack

    def lines(self) -> list[str]:
        head = (f"Installed {self.pack} {self.version}" if self.previous is None
                else f"Updated {self.pack} {self.previous} -> {self.version}")
        out = [head, f"  added {len(self.added)}, changed {len(self.changed)}, "
                     f"unchanged {self.unchanged}, retired {len(self.retired)}"]
        if self.reset:
            out.append(f"  {len(self.reset)} changed item(s) had their key or options edited: "
                       f"their schedule starts again (history kept)")
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
        previous = row.version if row is not None else None
        if row is not None and version_key(row.version) > version_key(m.version) and not allow_older:
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
        inserts, updates, reset_ids = [], [], []
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
            else:
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
            # The item becomes new again; rows kept only to remember a suspension or a flag.
            s.execute(delete(ScheduleRow).where(
                ScheduleRow.item_id.in_(reset_ids), ScheduleRow.suspended.is_(False),
                ScheduleRow.flagged.is_(False)))
            s.execute(update(ScheduleRow).where(ScheduleRow.item_id.in_(reset_ids)).values(
                state=0, step=None, stability=None, difficulty=None, due_ms=None,
                last_review_ms=None, reps=0, lapses=0))
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


def list_packs(engine: Engine) -> list[PackInfo]:
    with read_session(engine) as s:
        counts: dict[tuple[int, str, bool], int] = {
            (pid, kind, retired): n for pid, kind, retired, n in s.execute(
                select(ItemRow.pack_id, ItemRow.kind, ItemRow.retired, func.count())
                .group_by(ItemRow.pack_id, ItemRow.kind, ItemRow.retired))}
        out = []
        for p in s.scalars(select(PackRow).order_by(PackRow.key)):
            out.append(PackInfo(p.key, p.version, p.title, p.license,
                                counts.get((p.id, "question", False), 0),
                                counts.get((p.id, "term", False), 0),
                                counts.get((p.id, "question", True), 0)
                                + counts.get((p.id, "term", True), 0)))
        return out


def installed_version(engine: Engine, key: str) -> str | None:
    with read_session(engine) as s:
        return s.scalar(select(PackRow.version).where(PackRow.key == key))


def pack_coverage(engine: Engine, key: str) -> tuple[PackRow, Blueprint, list[ItemFacts]] | None:
    """An installed pack's blueprint and the facts of its live items (for `pack show`)."""
    with read_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == key))
        if row is None:
            return None
        areas = []
        for a in s.scalars(select(AreaRow).where(AreaRow.pack_id == row.id).order_by(AreaRow.position)):
            topics = tuple(Topic(t.code, t.title, t.level) for t in s.scalars(
                select(TopicRow).where(TopicRow.area_id == a.id).order_by(TopicRow.position)))
            areas.append(Area(a.code, a.title, a.scored, topics))
        bp = Blueprint(row.exam_name, row.exam_scored, row.exam_unscored, row.exam_minutes,
                       tuple(areas))
        facts = [ItemFacts(*r) for r in s.execute(
            select(ItemRow.area, ItemRow.topic, ItemRow.kind, ItemRow.level).where(
                ItemRow.pack_id == row.id, ItemRow.retired.is_(False)))]
        return row, bp, facts

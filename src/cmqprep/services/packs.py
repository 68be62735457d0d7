"""Installing and updating a question pack: items matched by id, rows written in chunks, all
in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import AreaRow, ItemRow, PackRow, ReviewRow, ScheduleRow, TopicRow
from cmqprep.packs.native import Pack, version_key
from cmqprep.services.pack_rows import COLUMNS, EDITED, Batch, by_id, chunks, item_row
from cmqprep.services.schedule_store import rebuild
from cmqprep.services.settings_cache import scheduler_configs

T = TypeVar("T")


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


def _spread(groups: list[list[T]]) -> list[T]:
    """Merge ordered groups so each is spread evenly through the result (in proportion).

    Element i of a group of n sits at (i + 0.5) / n; ties go to the earlier group. A stable
    sort on that fraction alone keeps ties in group order, so no tuple keys are needed."""
    flat: list[T] = []
    keys: list[float] = []
    for g in groups:
        n = len(g)
        flat.extend(g)
        keys.extend([(i + 0.5) / n for i in range(n)])
    return [flat[j] for j in sorted(range(len(flat)), key=keys.__getitem__)]


def _positions(pack: Pack) -> dict[str, int]:
    """The order new cards come in: areas, topics and term cards interleave in proportion,
    so a learner meets every area, every topic and both kinds of card from the first day."""
    by_topic: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in pack.items:
        by_topic[item.topic, item.kind].append(item.id)
    per_area = []
    for area in pack.blueprint.areas:
        kinds = [_spread([g for t in area.topics if (g := by_topic.get((t.code, kind)))])
                 for kind in ("question", "term")]
        per_area.append(_spread([k for k in kinds if k]))
    ordered = _spread([a for a in per_area if a])
    return {item_id: n for n, item_id in enumerate(ordered)}


def is_removed(s: Session, pack_id: int) -> bool:
    """A removed pack keeps its row and its (retired) items but has no blueprint left; every
    installed pack has at least one area, so the missing blueprint is the mark."""
    return s.scalar(select(AreaRow.id).where(AreaRow.pack_id == pack_id).limit(1)) is None


def installed_version(engine: Engine, key: str) -> str | None:
    with read_session(engine) as s:
        return s.scalar(select(PackRow.version).where(PackRow.key == key))


def _write_pack_row(s: Session, pack: Pack, row: PackRow | None, now_ms: int) -> PackRow:
    """The pack row (new or updated) and its blueprint, replaced as a whole."""
    m, bp = pack.manifest, pack.blueprint
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
    s.flush()
    return row


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
        removed = row is not None and is_removed(s, row.id)
        # A removed pack installs afresh (no older-version question); its items come back
        # with the progress the review log still holds.
        previous = row.version if row is not None and not removed else None
        if previous is not None and version_key(previous) > version_key(m.version) and not allow_older:
            raise OlderVersionError(m.id, previous, m.version)
        row = _write_pack_row(s, pack, row, now_ms)
        summary = InstallSummary(m.id, m.version, previous)
        reset_ids, back_ids = _write_items(s, pack, row.id, topics, positions, now_ms, summary)
        if reset_ids:
            _reset_schedules(s, reset_ids, summary)
        if back_ids:
            # Retired items coming back: their schedule is whatever the review log says now
            # (reviews may have been merged in while they were away).
            for ids in chunks(back_ids):
                rebuild(s, s.scalars(select(ItemRow).where(ItemRow.id.in_(ids))).all(),
                        scheduler_configs(s))
        if summary.added:
            summary.applied_reviews = _apply_earlier_reviews(s, row.id, m.id, summary.added)
    return summary


def _write_items(s: Session, pack: Pack, pack_id: int, topics: dict[str, str],
                 positions: dict[str, int], now_ms: int,
                 summary: InstallSummary) -> tuple[list[int], list[int]]:
    """Insert, update and retire the item rows; returns the ids whose schedules reset and the
    ids of retired items that came back."""
    t = ItemRow.__table__
    existing = {r[0]: r[1:] for r in s.execute(
        select(t.c.key, t.c.id, t.c.content_hash, t.c.answer_hash, t.c.retired, t.c.position,
               t.c.reset_ms).where(t.c.pack_id == pack_id))}
    inserts = Batch(s, insert(t), COLUMNS, COLUMNS)
    edits = Batch(s, by_id(EDITED), [f"b_{c}" for c in EDITED] + ["b_id"])
    moves = Batch(s, by_id(("position", "retired")), ["b_position", "b_retired", "b_id"])
    reset_ids: list[int] = []
    back_ids: list[int] = []
    for item in pack.items:
        position = positions[item.id]
        old = existing.get(item.id)
        if old is None:
            inserts.add(item_row(item, pack_id, topics[item.topic], position))
            summary.added.append(item.id)
            continue
        old_id, content_hash, answer_hash, retired, old_position, reset_ms = old
        if content_hash == item.content_hash():
            if retired:
                summary.restored.append(item.id)
                back_ids.append(old_id)
            else:
                summary.unchanged += 1
            if retired or position != old_position:
                moves.add((position, False, old_id))
            continue
        values = item_row(item, pack_id, topics[item.topic], position)
        if retired:
            back_ids.append(old_id)
        if answer_hash != values[14]:
            reset_ms = now_ms
            reset_ids.append(old_id)
            summary.reset.append(item.id)
        edits.add(values[2:] + (now_ms, reset_ms, old_id))
        summary.changed.append(item.id)
    for batch in (inserts, edits, moves):
        batch.flush()
    keys = {i.id for i in pack.items}
    gone = sorted((key, old[0]) for key, old in existing.items() if key not in keys and not old[3])
    summary.retired = [key for key, _ in gone]
    retire = Batch(s, by_id(("retired",)), ["b_retired", "b_id"])
    for _, old_id in gone:
        retire.add((True, old_id))
    retire.flush()
    return reset_ids, back_ids


def _reset_schedules(s: Session, reset_ids: list[int], summary: InstallSummary) -> None:
    """Items whose key or options changed become new again for every learner."""
    learners: set[int] = set()
    for ids in chunks(reset_ids):
        for profile_id, schedules in s.execute(
                select(ScheduleRow.profile_id, func.count())
                .where(ScheduleRow.item_id.in_(ids), ScheduleRow.reps > 0)
                .group_by(ScheduleRow.profile_id)):
            learners.add(profile_id)
            summary.reset_schedules += schedules
        # Rows kept only to remember a suspension or a flag stay; the rest go.
        s.execute(delete(ScheduleRow).where(
            ScheduleRow.item_id.in_(ids), ScheduleRow.suspended.is_(False),
            ScheduleRow.flagged.is_(False)))
        s.execute(update(ScheduleRow).where(ScheduleRow.item_id.in_(ids)).values(
            state=0, step=None, stability=None, difficulty=None, due_ms=None,
            last_review_ms=None, reps=0, lapses=0))
    summary.reset_learners = len(learners)


def _apply_earlier_reviews(s: Session, pack_id: int, pack_key: str, added: list[str]) -> int:
    """Reviews imported before this pack was installed apply now; returns rows rebuilt."""
    have = set(s.scalars(select(ReviewRow.item_key).where(
        ReviewRow.pack_key == pack_key).distinct()))
    pending = [k for k in added if k in have]
    written = 0
    for keys in chunks(pending):
        rows = s.scalars(select(ItemRow).where(ItemRow.pack_id == pack_id,
                                               ItemRow.key.in_(keys))).all()
        written += rebuild(s, rows, scheduler_configs(s))
    return written

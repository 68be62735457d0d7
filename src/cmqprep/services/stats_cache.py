"""The statistics cache: calibration sums and review time buckets, kept up to date from the log.

Opening the statistics folds in only what the review log gained since the last time (SQLite
rows with a rowid above the stored watermark), continuing each item's FSRS replay from its
cached state. Write paths never touch the cache: a trigger on `reviews` (migration 0004) marks
items whose reviews were deleted, lowers the watermark so rowids reused after a deletion are
not missed, and takes processed rows out of their time bucket. Items that lost reviews or
gained ones older than their cached position are replayed from their whole log. A change of the
scheduler settings the predictions depend on rebuilds everything (in the worker, with progress).

Every update is computed from a read snapshot and saved in one short write transaction that
first checks the cache is still where the snapshot found it (two processes opening the
statistics at once: the second finds nothing left to do). Other databases have no rowid and no
trigger: the report is computed from the whole log there (services/stats_fresh).
"""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cmqprep.config import Settings
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import (
    ReviewRow,
    StatsBandRow,
    StatsBucketRow,
    StatsItemRow,
    StatsMetaRow,
    StatsStaleRow,
)
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import (
    MS_PER_DAY,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    retrievability,
)
from cmqprep.services.settings_cache import scheduler_config

Progress = Callable[[int, int], None]
Key = tuple[str, str]  # (pack_key, item_key), as the log names items
BUCKET_MS = 900_000  # 15 minutes: every time zone's offset is a multiple of it
REBUILD_ABOVE = 200_000  # new reviews beyond which a rebuild costs about the same
CHUNK = 400  # keys per IN list (SQLite's variable limit is 32766 on 3.32+, 999 before)
ATTEMPTS = 4


def supported(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def bucket_of(ms: int) -> int:
    """Start of the 15-minute bucket of an instant, truncating toward zero like SQLite's `%`
    (the trigger computes the same expression)."""
    r = abs(ms) % BUCKET_MS
    return ms - r if ms >= 0 else ms + r


def prediction_config(settings: Settings) -> SchedulerConfig:
    # The exam-date cap only moves due dates, which FSRS never reads back (it works from the
    # last review, stability and difficulty): predictions do not depend on it, so setting an
    # exam date does not force a rebuild.
    return replace(scheduler_config(settings), exam_cap_ms=None)


def config_key(cfg: SchedulerConfig) -> str:
    return json.dumps([cfg.desired_retention, list(cfg.learning_steps_min),
                       list(cfg.relearning_steps_min), cfg.maximum_interval_days])


@dataclass
class ItemAcc:
    """An item's replay so far and its calibration sums {band: [n, predicted, recalled, loss]}."""

    reviews: int = 0
    last: tuple[int, str] | None = None
    state: SchedState = field(default_factory=SchedState)
    bands: dict[int, list] = field(default_factory=dict)


_GRADES = {int(g): g for g in Grade}


def fold(acc: ItemAcc, rows: Iterable[tuple[int, str, int]], cfg: SchedulerConfig,
         delta: dict[int, list] | None = None) -> None:
    """Continue an item's replay with its next reviews (ms, id, rating) in (ms, id) order;
    what they add to the calibration sums is also added to `delta` when given.

    Each prediction is domain.readiness.predict_step's (retrievability just before the
    review); those calibration leaves out (less than CALIBRATION_MIN_DAYS after the previous
    review: learning steps) are not computed at all."""
    state = acc.state
    targets = (acc.bands, delta) if delta is not None else (acc.bands,)
    min_days = rd.CALIBRATION_MIN_DAYS
    for ms, rid, rating in rows:
        last = state.last_review_ms
        if last is not None and (elapsed := (ms - last) / MS_PER_DAY) >= min_days:
            p, recalled = retrievability(state, ms, cfg), rating > 1  # as predict_step
            band = rd.interval_band(elapsed)
            loss = rd.loss_term(p, recalled)
            for sums in targets:
                b = sums.setdefault(band, [0, 0.0, 0, 0.0])
                b[0] += 1
                b[1] += p
                b[2] += recalled
                b[3] += loss
        state = apply_review(state, _GRADES[rating], ms, cfg)
        acc.reviews += 1
        acc.last = (ms, rid)
    acc.state = state


def _add(total: dict[int, list], part: dict[int, list], sign: int = 1) -> None:
    for band, (n, sp, sy, sl) in part.items():
        b = total.setdefault(band, [0, 0.0, 0, 0.0])
        b[0] += sign * n
        b[1] += sign * sp
        b[2] += sign * sy
        b[3] += sign * sl


def _item_values(profile_id: int, key: Key, acc: ItemAcc) -> dict[str, object]:
    s, last = acc.state, acc.last
    assert last is not None
    return {"profile_id": profile_id, "pack_key": key[0], "item_key": key[1],
            "reviews": acc.reviews, "last_ms": last[0], "last_id": last[1], "state": s.state,
            "step": s.step, "stability": s.stability, "difficulty": s.difficulty,
            "due_ms": s.due_ms, "last_review_ms": s.last_review_ms, "reps": s.reps,
            "lapses": s.lapses, "bands": json.dumps(sorted([b, *v] for b, v in acc.bands.items()))}


def _acc_of(row: StatsItemRow) -> ItemAcc:
    state = SchedState(row.state, row.step, row.stability, row.difficulty, row.due_ms,
                       row.last_review_ms, row.reps, row.lapses)
    return ItemAcc(row.reviews, (row.last_ms, row.last_id), state,
                   {b: [n, sp, sy, sl] for b, n, sp, sy, sl in json.loads(row.bands)})


@dataclass
class Plan:
    """What one update saves, computed from a read snapshot taken at (watermark, gen)."""

    seen: tuple[str | None, int, int]  # meta (config, watermark, gen) in the snapshot
    config: str
    watermark: int  # the highest rowid the snapshot saw
    full: bool  # replace the whole cache of the profile
    items: dict[Key, ItemAcc | None]  # None: the item no longer has reviews
    bands: dict[int, list]
    buckets: dict[int, list]  # start_ms -> [reviews, duration_ms] (added, or the whole set)


def _meta(s: Session, profile_id: int) -> tuple[str | None, int, int] | None:
    row = s.execute(select(StatsMetaRow.config, StatsMetaRow.watermark, StatsMetaRow.gen)
                    .where(StatsMetaRow.profile_id == profile_id)).first()
    return None if row is None else (row[0], row[1], row[2])


def _ensure_meta(engine: Engine, profile_id: int) -> None:
    # The trigger only reports deletions to profiles that have a meta row: make it before the
    # first build reads the log, so deletions during the build are noticed. Read first, so an
    # opening with nothing new takes no write lock.
    with read_session(engine) as s:
        if _meta(s, profile_id) is not None:
            return
    with write_session(engine) as s:
        if _meta(s, profile_id) is None:
            s.add(StatsMetaRow(profile_id=profile_id, config=None, watermark=0, gen=0))


def _max_rowid(s: Session) -> int:
    return s.execute(text("SELECT coalesce(max(rowid), 0) FROM reviews")).scalar_one()


def _snapshot(engine: Engine, profile_id: int, cfg: SchedulerConfig,
              progress: Progress | None) -> Plan | None:
    ckey = config_key(cfg)
    with read_session(engine) as s:
        meta = _meta(s, profile_id)
        assert meta is not None
        top = _max_rowid(s)
        if meta[0] != ckey:
            return _full(s, profile_id, cfg, meta, ckey, top, progress)
        pending = s.execute(text("SELECT count(*) FROM reviews WHERE rowid > :wm"),
                            {"wm": meta[1]}).scalar_one()
        if pending > REBUILD_ABOVE:
            return _full(s, profile_id, cfg, meta, ckey, top, progress)
        return _incremental(s, profile_id, cfg, meta, ckey, top, progress)


_SCAN = ("SELECT pack_key, item_key, reviewed_ms, rowid, id, rating, duration_ms FROM reviews "
         "WHERE profile_id = ?")


def _full(s: Session, profile_id: int, cfg: SchedulerConfig, meta: tuple[str | None, int, int],
          ckey: str, top: int, progress: Progress | None) -> Plan:
    # One pass over the table in storage order: reading the log in per-item order through the
    # index costs a random page access per review (about 5x the time at a million). Each
    # item's reviews are kept compactly (17 bytes each) and sorted afterwards.
    raw = s.connection().connection.driver_connection
    logs: dict[Key, tuple[array, array, bytearray]] = {}
    last: dict[Key, tuple[int, str]] = {}
    buckets: dict[int, list] = {}
    for pack_key, item_key, ms, rowid, rid, rating, dur in raw.execute(_SCAN, (profile_id,)):
        key = (pack_key, item_key)
        log = logs.get(key)
        if log is None:
            log = logs[key] = (array("q"), array("q"), bytearray())
            last[key] = (ms, rid)
        elif (ms, rid) > last[key]:
            last[key] = (ms, rid)
        log[0].append(ms)
        log[1].append(rowid)
        log[2].append(rating)
        start = ms - ms % BUCKET_MS if ms >= 0 else bucket_of(ms)  # inlined: a million calls
        b = buckets.get(start)
        if b is None:
            buckets[start] = [1, dur or 0]
        else:
            b[0] += 1
            b[1] += dur or 0
    total = len(logs)
    ties: list[Key] = []
    items: dict[Key, ItemAcc | None] = {}
    for done, (key, (times, rowids, ratings)) in enumerate(logs.items(), 1):
        order = sorted(range(len(times)), key=lambda i: (times[i], rowids[i]))
        if any(times[order[i]] == times[order[i + 1]] for i in range(len(order) - 1)):
            ties.append(key)  # same instant twice: the log orders those by id, read below
            continue
        fold(acc := ItemAcc(), ((times[i], "", ratings[i]) for i in order), cfg)
        acc.last = last[key]
        items[key] = acc
        if progress and done % 200 == 0:
            progress(done, total)
    for pack_key, item_keys in _chunks(ties):
        tied: dict[Key, list[tuple[int, str, int]]] = defaultdict(list)
        for item_key, ms, rid, rating in s.execute(
                select(ReviewRow.item_key, ReviewRow.reviewed_ms, ReviewRow.id, ReviewRow.rating)
                .where(ReviewRow.profile_id == profile_id, ReviewRow.pack_key == pack_key,
                       ReviewRow.item_key.in_(item_keys))):
            tied[(pack_key, item_key)].append((ms, rid, rating))
        for key, rows in tied.items():
            fold(acc := ItemAcc(), sorted(rows), cfg)
            items[key] = acc
    if progress:
        progress(total, total)
    bands: dict[int, list] = {}
    for acc in items.values():
        _add(bands, acc.bands)  # type: ignore[union-attr]
    return Plan(meta, ckey, top, True, items, bands, buckets)


def _chunks(seq: Sequence[Key]) -> Iterable[tuple[str, list[str]]]:
    """Keys as (pack_key, up to CHUNK item keys): `pack_key = ? AND item_key IN (...)` uses
    the indexes, where SQLite scans the whole table for a row-value IN list."""
    by_pack: dict[str, list[str]] = defaultdict(list)
    for pack_key, item_key in seq:
        by_pack[pack_key].append(item_key)
    for pack_key, item_keys in by_pack.items():
        for i in range(0, len(item_keys), CHUNK):
            yield pack_key, item_keys[i:i + CHUNK]


def _incremental(s: Session, profile_id: int, cfg: SchedulerConfig,
                 meta: tuple[str | None, int, int], ckey: str, top: int,
                 progress: Progress | None) -> Plan | None:
    stale = {(p, k) for p, k in s.execute(select(StatsStaleRow.pack_key, StatsStaleRow.item_key)
                                          .where(StatsStaleRow.profile_id == profile_id))}
    new = s.execute(text(
        "SELECT pack_key, item_key, reviewed_ms, id, rating, duration_ms FROM reviews "
        # "+": the rowid range, not ix_reviews_profile_time (a walk through the whole profile)
        "WHERE rowid > :wm AND rowid <= :top AND +profile_id = :p"),
        {"wm": meta[1], "top": top, "p": profile_id}).all()
    if not new and not stale:
        return None if top <= meta[1] else Plan(meta, ckey, top, False, {}, {}, {})
    added: dict[Key, list[tuple[int, str, int]]] = defaultdict(list)
    buckets: dict[int, list] = {}
    for pack_key, item_key, ms, rid, rating, dur in new:
        added[(pack_key, item_key)].append((ms, rid, rating))
        b = buckets.setdefault(bucket_of(ms), [0, 0])
        b[0] += 1
        b[1] += dur or 0
    keys = sorted(set(added) | stale)
    cached: dict[Key, ItemAcc] = {}
    for pack_key, item_keys in _chunks(keys):
        for row in s.scalars(select(StatsItemRow).where(
                StatsItemRow.profile_id == profile_id, StatsItemRow.pack_key == pack_key,
                StatsItemRow.item_key.in_(item_keys))):
            cached[(row.pack_key, row.item_key)] = _acc_of(row)
    bands = {r.band: [r.n, r.predicted, r.recalled, r.loss] for r in s.scalars(
        select(StatsBandRow).where(StatsBandRow.profile_id == profile_id))}
    items: dict[Key, ItemAcc | None] = {}
    redo: list[Key] = []
    for key in keys:
        rows = sorted(added.get(key, ()))
        acc = cached.get(key)
        if key in stale or (acc is not None and rows and rows[0][:2] <= acc.last):  # type: ignore[operator]
            redo.append(key)  # lost reviews, or gained some before its cached position
            continue
        acc = acc or ItemAcc()
        fold(acc, rows, cfg, bands)
        items[key] = acc
    for pack_key, item_keys in _chunks(redo):
        logs: dict[Key, list[tuple[int, str, int]]] = defaultdict(list)
        for item_key, ms, rid, rating in s.execute(
                select(ReviewRow.item_key, ReviewRow.reviewed_ms, ReviewRow.id, ReviewRow.rating)
                .where(ReviewRow.profile_id == profile_id, ReviewRow.pack_key == pack_key,
                       ReviewRow.item_key.in_(item_keys))
                .order_by(ReviewRow.item_key, ReviewRow.reviewed_ms, ReviewRow.id)):
            logs[(pack_key, item_key)].append((ms, rid, rating))
        for key in ((pack_key, k) for k in item_keys):
            old = cached.get(key)
            if old is not None:
                _add(bands, old.bands, -1)
            if not logs.get(key):
                items[key] = None
                continue
            fold(acc := ItemAcc(), logs[key], cfg)
            _add(bands, acc.bands)
            items[key] = acc
        if progress:
            progress(len(items), len(keys))
    return Plan(meta, ckey, top, False, items, bands, buckets)


def _save(s: Session, profile_id: int, plan: Plan) -> bool:
    """Write the plan if the cache is still where the snapshot found it."""
    if _meta(s, profile_id) != plan.seen:
        return False
    pid = StatsItemRow.profile_id == profile_id
    if plan.full:
        for model in (StatsItemRow, StatsBandRow, StatsBucketRow, StatsStaleRow):
            s.execute(delete(model).where(model.profile_id == profile_id))
    else:
        s.execute(delete(StatsStaleRow).where(StatsStaleRow.profile_id == profile_id))
        for pack_key, item_keys in _chunks(sorted(plan.items)):
            s.execute(delete(StatsItemRow).where(pid, StatsItemRow.pack_key == pack_key,
                                                 StatsItemRow.item_key.in_(item_keys)))
        s.execute(delete(StatsBandRow).where(StatsBandRow.profile_id == profile_id))
    rows = [_item_values(profile_id, k, a) for k, a in plan.items.items() if a is not None]
    if rows:
        s.execute(insert(StatsItemRow), rows)
    bands = [{"profile_id": profile_id, "band": b, "n": n, "predicted": sp, "recalled": sy,
              "loss": sl} for b, (n, sp, sy, sl) in sorted(plan.bands.items())]
    if bands:
        s.execute(insert(StatsBandRow), bands)
    if plan.buckets:
        stmt = sqlite_insert(StatsBucketRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["profile_id", "start_ms"],
            set_={"reviews": StatsBucketRow.reviews + stmt.excluded.reviews,
                  "duration_ms": StatsBucketRow.duration_ms + stmt.excluded.duration_ms})
        s.execute(stmt, [{"profile_id": profile_id, "start_ms": start, "reviews": n,
                          "duration_ms": d} for start, (n, d) in sorted(plan.buckets.items())])
    s.execute(update(StatsMetaRow).where(StatsMetaRow.profile_id == profile_id)
              .values(config=plan.config, watermark=plan.watermark))
    return True


def refresh(engine: Engine, profile_id: int, settings: Settings,
            progress: Progress | None = None) -> bool:
    """Bring the profile's statistics cache up to date with the review log. False when the log
    kept changing under it (deletions during every attempt): the cache is left as it was (the
    next opening tries again) and the caller computes from the whole log."""
    cfg = prediction_config(settings)
    _ensure_meta(engine, profile_id)
    for _ in range(ATTEMPTS):
        plan = _snapshot(engine, profile_id, cfg, progress)
        if plan is None:
            return True
        with write_session(engine) as s:
            if _save(s, profile_id, plan):
                return True
    return False

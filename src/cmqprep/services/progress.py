"""Exporting a profile's progress to a file, and merging an export into a profile."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, select
from sqlalchemy.orm import Session

from cmqprep import __version__
from cmqprep.config import Settings
from cmqprep.db.engine import read_session, translated_errors, write_session
from cmqprep.db.models import ItemRow, PackRow, ProfileRow, ReviewRow
from cmqprep.domain.progress import (
    MAX_FILE_BYTES,
    RECENT_DAYS,
    ProgressDoc,
    ProgressError,
    Review,
    encode,
    parse,
    streak,
    study_day,
    summary_document,
)
from cmqprep.domain.progress_stream import ExportStream, NotStreamable
from cmqprep.domain.scheduling import to_ms
from cmqprep.services.bulk_rebuild import installed_items, rebuild_bulk
from cmqprep.services.progress_import import ImportReport, Merger
from cmqprep.services.settings_cache import scheduler_config

CHUNK_REVIEWS = 5000  # reviews checked and inserted at a time
BULK_CACHE_KIB = 48 * 1024  # SQLite page cache while importing (64 MiB: 8% faster, +40 MB)
__all__ = ["ExportResult", "ImportReport", "export_progress", "import_progress", "read_export"]
_REVIEW_COLUMNS = (ReviewRow.id, ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms,
                   ReviewRow.rating, ReviewRow.duration_ms, ReviewRow.source,
                   ReviewRow.state_before, ReviewRow.chosen, ReviewRow.correct)


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


# ---- export ---------------------------------------------------------------------------------

@dataclass
class ExportResult:
    path: Path
    kind: str
    reviews: int
    bytes: int


def _area_figures(s: Session, reports: list[Any], profile_id: int, now_ms: int) -> list[dict]:
    since = now_ms - RECENT_DAYS * 86_400_000
    recent = {area: (int(n), int(c or 0)) for area, n, c in s.execute(
        select(ItemRow.area, func.count(), func.sum(case((ReviewRow.correct.is_(True), 1), else_=0)))
        .join(PackRow, PackRow.key == ReviewRow.pack_key)
        .join(ItemRow, and_(ItemRow.pack_id == PackRow.id, ItemRow.key == ReviewRow.item_key))
        .where(ReviewRow.profile_id == profile_id, ReviewRow.correct.is_not(None),
               ReviewRow.reviewed_ms >= since, ReviewRow.reviewed_ms <= now_ms)
        .group_by(ItemRow.area))}
    out = []
    for r in reports:
        n, correct = recent.get(r.code, (0, 0))
        out.append({
            "code": r.code, "title": r.title, "weight": round(r.weight, 4),
            "exam_questions": r.exam_questions, "items": r.items, "seen": r.seen,
            "mastered": r.mastered, "recall_now": _rounded(r.recall_now),
            "readiness": round(r.readiness, 4), "readiness_low": round(r.readiness_low, 4),
            "readiness_high": round(r.readiness_high, 4), "quiz_answers": r.quiz_answers,
            "quiz_accuracy": _rounded(r.quiz_accuracy), "recent_answers": n,
            "recent_accuracy": round(correct / n, 4) if n else None})
    return out


def _activity(s: Session, profile_id: int, settings: Settings, now: datetime) -> dict:
    n, first, last = s.execute(select(func.count(), func.min(ReviewRow.reviewed_ms),
                                      func.max(ReviewRow.reviewed_ms))
                               .where(ReviewRow.profile_id == profile_id)).one()
    tz, hour = settings.tz(), settings.day_start_hour
    times = s.scalars(select(ReviewRow.reviewed_ms).where(ReviewRow.profile_id == profile_id)
                      .order_by(ReviewRow.reviewed_ms.desc()).execution_options(yield_per=1000))
    days = (study_day(ms, tz, hour) for ms in times)
    run = streak(days, study_day(to_ms(now), tz, hour))  # reads back only as far as the streak
    times.close()
    return {"reviews": n, "first_review_ms": first, "last_review_ms": last, "streak_days": run}


def _attempts(engine: Engine, profile_id: int) -> list[dict]:
    from cmqprep.services.exam import attempt_history

    return [{"id": a.id, "kind": a.kind, "mode": a.mode, "started_ms": a.started_ms,
             "submitted_ms": a.submitted_ms, "used_ms": max(0, a.used_ms), "correct": a.correct,
             "scored": a.scored, "areas": {k: [c, t] for k, (c, t) in a.per_area.items()}}
            for a in attempt_history(engine, profile_id)]


def build_summary(engine: Engine, profile_id: int, settings: Settings, now: datetime,
                  kind: str) -> dict:
    """The summary part of an export of this profile (everything but the review log)."""
    from cmqprep.services.readiness import area_report

    now_ms = to_ms(now)
    reports = area_report(engine, profile_id, settings, now)
    attempts = _attempts(engine, profile_id)
    with read_session(engine) as s:
        profile = s.get(ProfileRow, profile_id)
        assert profile is not None
        packs: dict[str, str | None] = dict(s.execute(select(PackRow.key, PackRow.version)).all())
        for key in s.scalars(select(ReviewRow.pack_key).where(
                ReviewRow.profile_id == profile_id).distinct()):
            packs.setdefault(key, None)  # reviewed here, pack not installed
        areas = _area_figures(s, reports, profile_id, now_ms)
        activity = _activity(s, profile_id, settings, now)
        return summary_document(
            app_version=__version__, exported_ms=now_ms, kind=kind, member_id=profile.member_id,
            name=profile.name, packs=[{"key": k, "version": packs[k]} for k in sorted(packs)],
            areas=areas, activity=activity, attempts=attempts)


def _reviews(s: Session, profile_id: int) -> Iterator[Review]:
    q = (select(*_REVIEW_COLUMNS).where(ReviewRow.profile_id == profile_id)
         .order_by(ReviewRow.reviewed_ms, ReviewRow.id))
    for rows in s.connection().execution_options(yield_per=5000).execute(q).partitions():
        yield from map(Review._make, rows)


def write_private(path: Path, chunks: Iterable[str], force: bool) -> int:
    """Write text to `path` readable by its owner only, atomically: a temporary file in the same
    folder, flushed to disk, then renamed over the target. Returns the bytes written."""
    if path.is_dir():
        raise ProgressError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise ProgressError(f"{path} already exists; pass --force to replace it")
    folder = path.parent
    if not folder.is_dir():
        raise ProgressError(f"cannot write {path}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for chunk in chunks:
                written += f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not every platform lets a folder be opened
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path.stat().st_size


def export_progress(engine: Engine, profile_id: int, settings: Settings, now: datetime,
                    path: Path, summary_only: bool = False, force: bool = False) -> ExportResult:
    """Write this profile's export to `path` (mode 0600; an existing file only with `force`)."""
    kind = "summary" if summary_only else "full"
    doc = build_summary(engine, profile_id, settings, now, kind)
    if summary_only:
        size = write_private(path, encode(doc, None), force)
        return ExportResult(path, kind, 0, size)
    with read_session(engine) as s:
        size = write_private(path, encode(doc, _reviews(s, profile_id)), force)
    return ExportResult(path, kind, doc["activity"]["reviews"], size)


# ---- import ---------------------------------------------------------------------------------

def _checked_file(path: Path) -> None:
    """The file exists, is a regular file and is within the size limit (before any read)."""
    source = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ProgressError(f"{source}: not a file")
    except OSError as exc:
        raise ProgressError(f"{source}: cannot read it: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise ProgressError(f"{source}: {size / 2**20:.0f} MiB is over the "
                            f"{MAX_FILE_BYTES // 2**20} MiB limit for a progress export")


def read_export(path: Path, now: datetime) -> ProgressDoc:
    """Read and validate an export file whole; its size is checked before anything is read."""
    _checked_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProgressError(f"{path}: cannot read it: {exc.strerror}") from None
    return parse(data, str(path), to_ms(now))


@contextlib.contextmanager
def _stream(path: Path, now_ms: int) -> Iterator[ExportStream]:
    try:
        f = path.open("rb")
    except OSError as exc:
        raise ProgressError(f"{path}: cannot read it: {exc.strerror}") from None
    with f:
        def read(n: int) -> bytes:
            try:
                return f.read(n)
            except OSError as exc:
                raise ProgressError(f"{path}: cannot read it: {exc.strerror}") from None
        yield ExportStream(read, str(path), now_ms)


def _summary_refused(source: str) -> ProgressError:
    return ProgressError(f"{source}: a summary-only export has no review log, so there is "
                         f"nothing to merge (export again without --summary-only, or add it "
                         f"to the study group with 'cmqprep group add')")


def import_progress(engine: Engine, profile_id: int, settings: Settings, path: Path,
                    now: datetime) -> ImportReport:
    """Merge an export's review log into this profile, in one transaction.

    Reviews already here (same id, same content) are skipped; a same id with other content
    refuses the whole file. The schedule of every item that gained reviews is rebuilt by
    replaying its merged log; reviews of items not installed are kept for when they are.
    The file is streamed; one laid out otherwise than cmqprep writes it is read whole.
    """
    _checked_file(path)
    now_ms = to_ms(now)
    try:
        with _stream(path, now_ms) as stream:
            doc = stream.header()
            if doc.kind != "full":
                raise _summary_refused(str(path))
            return _merge(engine, profile_id, settings, path, doc,
                          stream.reviews(), lambda: _rescan(path, now_ms))
    except NotStreamable:  # raised before the transaction commits: nothing was kept
        pass
    doc = read_export(path, now)
    if doc.reviews is None:
        raise _summary_refused(str(path))
    reviews = doc.reviews
    return _merge(engine, profile_id, settings, path, doc, [(0, reviews)],
                  lambda: [(0, reviews)])


def _rescan(path: Path, now_ms: int) -> Iterator[tuple[int, list[Review]]]:
    with _stream(path, now_ms) as again:
        again.header()
        yield from again.reviews()


def _merge(engine: Engine, profile_id: int, settings: Settings, path: Path, doc: ProgressDoc,
           chunks: Iterable[tuple[int, list[Review]]],
           rescan: Callable[[], Iterable[tuple[int, list[Review]]]]) -> ImportReport:
    source = str(path)
    with translated_errors(engine), write_session(engine) as s:
        profile = s.get(ProfileRow, profile_id)
        assert profile is not None
        report = ImportReport(source, doc.name, doc.member_id, doc.exported_ms,
                              doc.member_id == profile.member_id, profile.name)
        conn = s.connection()
        with _bulk_cache(conn):
            _merge_in(conn, profile_id, settings, source, report, chunks, rescan)
    return report


@contextlib.contextmanager
def _bulk_cache(conn: Connection) -> Iterator[None]:
    """A larger SQLite page cache for this import only: inserting a million reviews updates
    three indexes at random places, and with the default 2 MiB cache most of those updates
    fetch their pages through the OS again."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _merge_in(conn: Connection, profile_id: int, settings: Settings, source: str,
              report: ImportReport, chunks: Iterable[tuple[int, list[Review]]],
              rescan: Callable[[], Iterable[tuple[int, list[Review]]]]) -> None:
    merger = Merger(conn, profile_id, source, report, rescan)
    for first, reviews in chunks:
        for part in range(0, len(reviews), CHUNK_REVIEWS):
            merger.add(first + part, reviews[part:part + CHUNK_REVIEWS])
    if not report.added:
        return
    touched = merger.touched
    del merger  # its id filter is not needed for the rebuild
    items = installed_items(conn, list(touched))
    installed = {(i.pack_key, i.item_key) for i in items}
    missing = [k for k in touched if k not in installed]
    report.not_installed_items = len(missing)
    report.not_installed_reviews = sum(touched[k] for k in missing)
    packs = set(conn.scalars(select(PackRow.key)))
    report.packs_missing = sorted({p for p, _ in missing} - packs)
    del installed, missing
    report.rebuilt = rebuild_bulk(conn, profile_id, items, scheduler_config(settings))

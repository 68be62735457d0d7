"""Progress exports: building the document, reading one back safely, merge rules, streaks.

Pure: the services gather figures from the database and hand them here; nothing reads the
clock or the disk. The format is described field by field in docs/progress-format.md.
"""

from __future__ import annotations

import contextlib
import gc
import json
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from json.encoder import encode_basestring as _js  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from cmqprep.domain.progress_schema import (
    SCHEMA,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Check,
    compile_schema,
)
from cmqprep.domain.scheduling import from_ms

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Checked before a file is read: a full log of about 2.8 million reviews fits."""
CLOCK_SKEW_MS = 10 * 60_000
"""How far in the future (by this machine's clock) a review or an export may lie: another
machine's clock may run a little fast."""
RECENT_DAYS = 30
"""Recent accuracy counts the answers to questions of this many days before the export."""


class ProgressError(Exception):
    """A progress file that cannot be used; the message names the file and what is wrong."""


class Review(NamedTuple):
    """One review as it appears in an export (and, field for field, in the review log)."""

    id: str
    pack: str
    item: str
    at_ms: int
    rating: int
    duration_ms: int
    source: str
    state_before: int
    chosen: int | None
    correct: bool | None


_review_values = operator.itemgetter(*Review._fields)
_id, _at_ms = operator.itemgetter(0), operator.itemgetter(3)


@dataclass(frozen=True)
class ProgressDoc:
    """A validated export: who, when, the summary part and (for a full export) the reviews."""

    member_id: str
    name: str
    exported_ms: int
    kind: str  # "full" | "summary"
    summary: dict[str, Any]  # the whole document except "reviews"
    reviews: list[Review] | None  # unique by id, in file order; None for a summary-only export


# ---- writing --------------------------------------------------------------------------------

def iso_ms(ms: int) -> str:
    """UTC instant as ISO 8601 with milliseconds and a Z, e.g. 2026-03-02T15:00:00.000Z."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(text: str) -> int:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(round(dt.timestamp() * 1000))


def summary_document(*, app_version: str, exported_ms: int, kind: str, member_id: str,
                     name: str, packs: Sequence[Mapping[str, Any]],
                     areas: Sequence[Mapping[str, Any]], activity: Mapping[str, Any],
                     attempts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Everything of an export but the review log, in the documented field order."""
    return {
        "schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION, "app_version": app_version,
        "exported_at": iso_ms(exported_ms), "kind": kind,
        "member": {"id": member_id, "name": name},
        "packs": [dict(p) for p in packs], "areas": [dict(a) for a in areas],
        "activity": dict(activity), "attempts": [dict(a) for a in attempts],
    }


def encode(doc: Mapping[str, Any], reviews: Iterable[Review] | None) -> Iterator[str]:
    """The export as text chunks: the summary indented, then one review per line, so a log of
    any length is written without building it in memory (and diffs read well)."""
    head = json.dumps(doc, indent=2, ensure_ascii=False)
    if reviews is None:
        yield head + "\n"
        return
    yield head[:-2] + ',\n  "reviews": ['
    sep = "\n    "
    for r in reviews:
        yield sep + review_line(r)
        sep = ",\n    "
    yield "]\n}\n" if sep == "\n    " else "\n  ]\n}\n"


_NULLABLE_BOOL = {None: "null", True: "true", False: "false"}


def review_line(r: Review) -> str:
    """One review as a JSON object, the same text json.dumps(r._asdict()) gives, about five
    times faster (a full log is a million of these)."""
    chosen = "null" if r.chosen is None else int(r.chosen)
    return (f'{{"id": {_js(r.id)}, "pack": {_js(r.pack)}, "item": {_js(r.item)}, '
            f'"at_ms": {int(r.at_ms)}, "rating": {int(r.rating)}, '
            f'"duration_ms": {int(r.duration_ms)}, "source": {_js(r.source)}, '
            f'"state_before": {int(r.state_before)}, "chosen": {chosen}, '
            f'"correct": {_NULLABLE_BOOL[r.correct]}}}')


# ---- activity -------------------------------------------------------------------------------

def study_day(ms: int, tz: tzinfo, day_start_hour: int) -> date:
    """The study day an instant belongs to (days start at `day_start_hour` local time)."""
    return (from_ms(ms).astimezone(tz) - timedelta(hours=day_start_hour)).date()


def streak(days_newest_first: Iterable[date], today: date) -> int:
    """Consecutive study days with reviews, ending today, or yesterday when today has none yet
    (the streak is still alive until the day ends). Stops reading at the first gap."""
    count, expected = 0, None
    for day in days_newest_first:
        if expected is None:
            if day < today - timedelta(days=1):
                return 0
            expected = day
        if day == expected:
            count += 1
            expected = day - timedelta(days=1)
        elif day < expected:
            break
    return count


# ---- reading --------------------------------------------------------------------------------

_checker: Check | None = None


def _check(doc: Any) -> tuple[tuple[str | int, ...], str] | None:
    global _checker
    if _checker is None:
        _checker = compile_schema(SCHEMA)
    return _checker(doc)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def load_json(data: bytes, source: str) -> Any:
    """Parse bytes as JSON with clear messages; deep nesting never escapes as RecursionError."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ProgressError(f"{source}: not UTF-8 text (byte {exc.start}); a progress export "
                            f"is a JSON file written by 'cmqprep progress export'") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ProgressError(f"{source}: the JSON ends early (line {exc.lineno}): the file "
                                f"is truncated; export it again") from None
        raise ProgressError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg} "
                            f"(column {exc.colno})") from None
    except ValueError as exc:
        raise ProgressError(f"{source}: not valid JSON: {exc}") from None
    except RecursionError:
        raise ProgressError(f"{source}: not a progress export: the JSON is nested too "
                            f"deeply") from None


def _where(doc: dict[str, Any], path: tuple[str | int, ...]) -> str:
    if len(path) >= 2 and path[0] == "reviews" and isinstance(path[1], int):
        entry = doc["reviews"][path[1]]
        rid = entry.get("id") if isinstance(entry, dict) else None
        # Only a well-formed id is echoed: the message reaches a terminal.
        well_formed = isinstance(rid, str) and len(rid) == 32 and not rid.strip("0123456789abcdef")
        label = f"review {path[1]}" + (f" (id {rid})" if well_formed else "")
        rest = path[2:]
    else:
        label, rest = "", path
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    return ": ".join(x for x in (label, dotted) if x) or "the document"


@contextlib.contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Pause the cyclic garbage collector while a million small objects are made: it would
    otherwise scan them again and again (about a third of the parse time) and find nothing,
    since JSON values form no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(data: bytes, source: str, now_ms: int) -> ProgressDoc:
    """Validate an export against the schema and the rules the schema cannot say."""
    with _bulk_allocation():
        return _parse(data, source, now_ms)


def _parse(data: bytes, source: str, now_ms: int) -> ProgressDoc:
    doc = load_json(data, source)
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_NAME:
        raise ProgressError(f"{source}: not a cmqprep progress export (make one with "
                            f"'cmqprep progress export -o FILE')")
    version = doc.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        raise ProgressError(f"{source}: made by a newer cmqprep (progress schema version "
                            f"{version}; this cmqprep reads version {SCHEMA_VERSION}): update "
                            f"cmqprep to read it")
    if doc.get("kind") == "summary" and "reviews" in doc:  # the schema says so less clearly
        raise ProgressError(f"{source}: a summary-only export must not carry a review log")
    failure = _check(doc)
    if failure is not None:
        path, message = failure
        raise ProgressError(f"{source}: {_where(doc, path)}: {message}")
    try:
        exported_ms = parse_iso(doc["exported_at"])
    except ValueError:
        raise ProgressError(f"{source}: exported_at: {doc['exported_at']!r} is not a real "
                            f"date and time") from None
    if exported_ms > now_ms + CLOCK_SKEW_MS:
        raise ProgressError(f"{source}: exported_at {doc['exported_at']} is in the future")
    _check_figures(doc, source)
    reviews = None
    if doc["kind"] == "full":
        reviews = _unique_reviews(doc["reviews"], source, min(now_ms, exported_ms) + CLOCK_SKEW_MS)
    summary = {k: v for k, v in doc.items() if k != "reviews"}
    return ProgressDoc(doc["member"]["id"], doc["member"]["name"], exported_ms, doc["kind"],
                       summary, reviews)


def _check_figures(doc: dict[str, Any], source: str) -> None:
    for i, a in enumerate(doc["areas"]):
        if not a["mastered"] <= a["seen"] <= a["items"]:
            raise ProgressError(f"{source}: areas[{i}] ({a['code']!r}): mastered <= seen <= "
                                f"items does not hold")
    for i, t in enumerate(doc["attempts"]):
        if t["correct"] > t["scored"] or any(c > n for c, n in t["areas"].values()):
            raise ProgressError(f"{source}: attempts[{i}] (id {t['id']}): more correct answers "
                                f"than questions")


def _unique_reviews(rows: list[dict[str, Any]], source: str, latest_ms: int) -> list[Review]:
    """Reviews as tuples, in file order; an exact repeat is dropped, a changed one refused.

    The common case (all ids distinct, no time in the future) runs in C-level loops; the slow
    walk that locates a problem runs only when there is one."""
    out = list(map(Review._make, map(_review_values, rows)))
    if out and max(map(_at_ms, out)) > latest_ms:
        i, r = next((i, r) for i, r in enumerate(out) if r.at_ms > latest_ms)
        raise ProgressError(f"{source}: review {i} (id {r.id}): its time {iso_ms(r.at_ms)} "
                            f"is after the export time or in the future")
    if len(set(map(_id, out))) == len(out):
        return out
    first: dict[str, int] = {}
    unique: list[Review] = []
    for i, r in enumerate(out):
        j = first.setdefault(r.id, i)
        if j == i:
            unique.append(r)
        elif out[j] != r:
            raise ProgressError(f"{source}: review {i} (id {r.id}): review {j} has the same "
                                f"id and different content")
    return unique


# ---- merging --------------------------------------------------------------------------------

@dataclass
class MergePlan:
    new: list[Review]
    present: int
    conflicts: list[tuple[Review, Review]]  # (in the file, already stored)


def plan_merge(incoming: Iterable[Review], stored: Mapping[str, Review]) -> MergePlan:
    """Split incoming reviews into new ones and ones already stored (same id, same content);
    the same id with other content is a conflict: the log is append-only, never rewritten."""
    plan = MergePlan([], 0, [])
    for r in incoming:
        old = stored.get(r.id)
        if old is None:
            plan.new.append(r)
        elif old == r:
            plan.present += 1
        else:
            plan.conflicts.append((r, old))
    return plan


def describe_conflict(file_review: Review, stored: Review) -> str:
    diff = [f"{f} {getattr(file_review, f)!r} here, {getattr(stored, f)!r} stored"
            for f in Review._fields if getattr(file_review, f) != getattr(stored, f)]
    return f"review id {file_review.id}: " + "; ".join(diff)

"""Progress exports: building the document, reading one back safely, merge rules, streaks.

Pure: the services gather figures from the database and hand them here; nothing reads the
clock or the disk. The format is described field by field in docs/progress-format.md.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from json.encoder import encode_basestring as _js  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from cmqprep.domain.progress_schema import (
    SCHEMA,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Check,
    compile_schema,
    fast_predicate,
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
        return _review_where(path[1], doc["reviews"][path[1]], path[2:])
    return _dotted(path) or "the document"


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _review_where(index: int, entry: Any, rest: tuple[str | int, ...]) -> str:
    rid = entry.get("id") if isinstance(entry, dict) else None
    # Only a well-formed id is echoed: the message reaches a terminal.
    well_formed = isinstance(rid, str) and len(rid) == 32 and not rid.strip("0123456789abcdef")
    label = f"review {index}" + (f" (id {rid})" if well_formed else "")
    return ": ".join(x for x in (label, _dotted(rest)) if x)


_review_checker: Check | None = None
_review_ok: Callable[[Any], bool] | None = None


def review_predicate() -> Callable[[Any], bool]:
    """A quick yes/no: is this value a valid review entry?"""
    global _review_ok
    if _review_ok is None:
        _review_ok = fast_predicate(SCHEMA["$defs"]["review"], SCHEMA)
    return _review_ok


def review_failure(index: int, entry: Any) -> str:
    """What is wrong with the review entry at `index`, located as the whole-document check
    words it (e.g. "review 4 (id ...): rating: 5 is not one of 1, 2, 3, 4")."""
    global _review_checker
    if _review_checker is None:
        _review_checker = compile_schema(SCHEMA["$defs"]["review"], SCHEMA)
    failure = _review_checker(entry)
    if failure is None:
        return f"review {index}: not a valid review"
    path, message = failure
    return f"{_review_where(index, entry, path)}: {message}"


review_values = _review_values
"""A review entry's values in Review field order (a C-level itemgetter)."""
make_review = functools.partial(tuple.__new__, Review)
"""Review from a tuple of its values, built without a Python-level call (Review._make adds
one, which a million reviews notice)."""


@contextlib.contextmanager
def bulk_allocation() -> Iterator[None]:
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
    with bulk_allocation():
        return _parse(data, source, now_ms)


def _parse(data: bytes, source: str, now_ms: int) -> ProgressDoc:
    doc = load_json(data, source)
    head = check_header(doc, source, now_ms)
    if head.kind != "full":
        return head
    latest = min(now_ms, head.exported_ms) + CLOCK_SKEW_MS
    return replace(head, reviews=_unique_reviews(doc["reviews"], source, latest))


def check_header(doc: Any, source: str, now_ms: int) -> ProgressDoc:
    """Every check of an export but those of its review entries' times and ids (the schema
    check covers whatever `doc["reviews"]` holds). The result has no reviews."""
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
    summary = {k: v for k, v in doc.items() if k != "reviews"}
    return ProgressDoc(doc["member"]["id"], doc["member"]["name"], exported_ms, doc["kind"],
                       summary, None)


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

def describe_conflict(file_review: Review, stored: Review) -> str:
    diff = [f"{f} {getattr(file_review, f)!r} here, {getattr(stored, f)!r} stored"
            for f in Review._fields if getattr(file_review, f) != getattr(stored, f)]
    return f"review id {file_review.id}: " + "; ".join(diff)

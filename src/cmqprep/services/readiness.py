"""Per-area mastery and readiness for one profile, and the blueprint-weighted overall estimate."""

from __future__ import annotations

import json
import weakref
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, func, select, text
from sqlalchemy.orm import Session

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import QUIZ_ANSWER_WHERE, ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import (
    NEW,
    SchedulerConfig,
    from_ms,
    recall_at,
    to_ms,
    well_learned,
)
from cmqprep.services.settings_cache import scheduler_config
from cmqprep.services.stats import areas_in as blueprint_areas

QUIZ_WINDOW_DAYS = 90  # quiz answers older than this say little about today


@dataclass(frozen=True)
class AreaReport:
    code: str
    title: str
    weight: float  # share of the exam's scored questions
    items: int
    seen: int
    mastered: int
    recall_now: float | None  # mean predicted recall over seen items; None when none seen
    quiz_accuracy: float | None  # recent quiz and exam answers; None when there are none
    quiz_answers: int
    readiness: float  # expected share correct on exam questions from this area
    readiness_low: float  # 80% range
    readiness_high: float
    exam_questions: int  # scored questions of this area on the real exam
    draw_sd: float
    unknown_sd: float

    @property
    def points_lost(self) -> float:
        return rd.points_lost(self.weight, self.readiness)

    def estimate(self) -> rd.Estimate:
        return rd.Estimate(self.readiness, self.draw_sd, self.unknown_sd)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        for key in ("weight", "recall_now", "quiz_accuracy", "readiness", "readiness_low",
                    "readiness_high", "draw_sd", "unknown_sd"):
            if isinstance(out[key], float):
                out[key] = round(out[key], 4)
        out["points_lost"] = round(self.points_lost, 4)
        return out


@dataclass(frozen=True)
class ReadinessOverall:
    readiness: float  # blueprint-weighted expected share correct
    low: float
    high: float
    weakest: tuple[str, ...]  # area codes with the most expected points lost

    def to_json(self) -> dict[str, object]:
        return {"readiness": round(self.readiness, 4), "low": round(self.low, 4),
                "high": round(self.high, 4), "weakest": list(self.weakest)}


def _guess(kind: str, options: str) -> float:
    if kind != "question":
        return 0.0
    try:
        n = len(json.loads(options))
    except ValueError:
        n = 4
    return 1.0 / n if n else 0.0


def _items(dialect: str, s: Session, profile_id: int) -> Iterator[tuple]:
    """(area, kind, chance of guessing right, state, stability, last review) of every live item,
    streamed in table order, with the profile's schedule joined (state None when unseen).

    One streamed join instead of a list of items plus a dict of schedule rows: at 100k items
    those two held about 20 MB at once, which Python keeps after the report is done. On
    SQLite the options are counted by json_array_length in SQL: decoding 100k JSON lists in
    Python was a quarter of the report's time. Elsewhere they are decoded here."""
    seen = and_(ScheduleRow.item_id == ItemRow.id, ScheduleRow.profile_id == profile_id,
                ScheduleRow.state != NEW)
    cols = (ItemRow.area, ItemRow.kind, ScheduleRow.state, ScheduleRow.stability,
            ScheduleRow.last_review_ms)
    live = ItemRow.retired.is_(False)
    if dialect != "sqlite":
        q = select(*cols, ItemRow.options).outerjoin(ScheduleRow, seen).where(live)
        for area, kind, state, stability, last, options in s.execute(q):
            yield area, kind, _guess(kind, options), state, stability, last
        return
    n = case((ItemRow.kind != "question", -2),
             (func.json_valid(ItemRow.options), func.json_array_length(ItemRow.options)),
             else_=-1)
    q = select(*cols, n).outerjoin(ScheduleRow, seen).where(live).order_by(ItemRow.id)
    for area, kind, state, stability, last, count in s.execute(q):
        # -2: a term card; -1: unreadable options (counted as four, as _guess does)
        g = 0.0 if count == -2 else 1.0 / (4 if count == -1 else count) if count else 0.0
        yield area, kind, g, state, stability, last


# Reports computed in this process, reused while the data they came from is unchanged and
# they are less than REUSE_MS old (recall drifts by well under 0.1 point in that time). The
# home screen computes the report in a worker after its first paint; the statistics screen
# and a progress export moments later then need not read 100k items again.
REUSE_MS = 10 * 60_000
_reports: weakref.WeakKeyDictionary[Engine, dict[tuple, tuple[tuple, int, list[AreaReport]]]] = (
    weakref.WeakKeyDictionary())

# What any change that moves the report also changes, read in well under a millisecond: every
# review appended (study, quiz, exam, import) takes a new rowid and a new id (an undo followed
# by another answer can reuse the rowid, never the id); study's regrade changes the rating of
# the newest review; installs, retirements, purges and area moves change the per-area counters
# kept by triggers (db/counters.py); a pack update changes its version. It is read in the same
# read transaction as the report, so a stamp always describes the data the report came from.
_STAMP = text(
    "SELECT (SELECT rowid || ':' || id || ':' || rating FROM reviews"
    "        WHERE rowid = (SELECT max(rowid) FROM reviews)),"
    " (SELECT group_concat(area || ':' || live) FROM area_item_counts),"
    " (SELECT group_concat(area || ':' || rows_total || ':' || rows_new)"
    "  FROM area_schedule_counts WHERE profile_id = :p),"
    " (SELECT group_concat(key || ':' || version || ':' || installed_ms) FROM packs)")


def area_report(engine: Engine, profile_id: int, settings: Settings,
                now: datetime) -> list[AreaReport]:
    """One report per blueprint area of the installed packs, in blueprint order.

    Bounded by the size of the bank (100k items: about half a second), so the home screen runs
    it in a worker after its first paint. On SQLite a report made in the last REUSE_MS from
    unchanged data is returned again (a change made by another process to an older review's
    rating alone is seen once the REUSE_MS have passed)."""
    now_ms = to_ms(now)
    cfg = scheduler_config(settings)
    stamp = None
    with read_session(engine) as s:
        if engine.dialect.name == "sqlite":
            stamp = tuple(s.execute(_STAMP, {"p": profile_id}).one())  # fixes the snapshot
            kept = _reports.get(engine, {}).get((profile_id, cfg))
            if kept is not None and kept[0] == stamp and 0 <= now_ms - kept[1] < REUSE_MS:
                return kept[2]
        reports = _compute(s, engine.dialect.name, profile_id, cfg, now_ms)
    if stamp is not None:
        _reports.setdefault(engine, {})[(profile_id, cfg)] = (stamp, now_ms, reports)
    return reports


def _compute(s: Session, dialect: str, profile_id: int, cfg: SchedulerConfig,
             now_ms: int) -> list[AreaReport]:
    now = from_ms(now_ms)
    bp = blueprint_areas(s)
    total_scored = sum(scored for _, _, scored in bp) or 1
    since = to_ms(now - timedelta(days=QUIZ_WINDOW_DAYS))
    recall = recall_at(cfg, now_ms)
    per: dict[str, _Area] = {}
    for area, kind, g, state, stability, last in _items(dialect, s, profile_id):
        acc = per.get(area)
        if acc is None:
            acc = per[area] = _Area()
        acc.items += 1
        question = kind == "question"
        if state is None:
            acc.unseen_all += 1
            acc.unseen_questions += question
            continue
        # One retrievability per seen item, in item order, so the sums are the same floats.
        r = 0.0 if stability is None or last is None else recall(stability, last)
        acc.recalls.append(r)
        acc.mastered += well_learned(state, stability)
        p = r + (1.0 - r) * g  # rd.p_correct, inlined: this loop runs once per item
        acc.p_all.append(p)
        if question:
            acc.p_questions.append(p)
    quiz = s.execute(
        select(ItemRow.area, ReviewRow.correct)
        .join(PackRow, PackRow.key == ReviewRow.pack_key)
        .join(ItemRow, and_(ItemRow.pack_id == PackRow.id, ItemRow.key == ReviewRow.item_key))
        .where(ReviewRow.profile_id == profile_id, text(QUIZ_ANSWER_WHERE),
               ReviewRow.reviewed_ms >= since,
               ReviewRow.reviewed_ms <= now_ms)).all()
    for area, correct in quiz:
        per.setdefault(area, _Area()).quiz.append(bool(correct))

    reports = []
    titles = {code: (title, scored) for code, title, scored in bp}
    for code in [c for c, _, _ in bp] + sorted(set(per) - set(titles)):
        title, scored = titles.get(code, (code, 0))
        acc = per.get(code) or _Area()
        # The exam asks questions; term cards only stand in when an area has no questions.
        if acc.p_questions or acc.unseen_questions:
            seen_p, unseen = acc.p_questions, acc.unseen_questions
        else:
            seen_p, unseen = acc.p_all, acc.unseen_all
        answers = acc.quiz
        est = rd.area_estimate(seen_p, unseen, float(scored), sum(answers), len(answers))
        recalls = acc.recalls
        reports.append(AreaReport(
            code=code, title=title, weight=scored / total_scored, items=acc.items,
            seen=len(recalls), mastered=acc.mastered,
            recall_now=sum(recalls) / len(recalls) if recalls else None,
            quiz_accuracy=sum(answers) / len(answers) if answers else None,
            quiz_answers=len(answers), readiness=est.mean, readiness_low=est.low,
            readiness_high=est.high, exam_questions=scored, draw_sd=est.draw_sd,
            unknown_sd=est.unknown_sd))
    return reports


class _Area:
    """Running figures of one area while the items stream past."""

    __slots__ = ("items", "unseen_all", "unseen_questions", "recalls", "mastered", "p_all",
                 "p_questions", "quiz")

    def __init__(self) -> None:
        self.items = self.unseen_all = self.unseen_questions = self.mastered = 0
        # Compact float arrays (8 bytes a value, not 32): summed in the same order as lists.
        self.recalls = array("d")
        self.p_all = array("d")  # chance of a right answer now, every seen item
        self.p_questions = array("d")  # the same, seen questions only
        self.quiz: list[bool] = []


def overall(reports: list[AreaReport], n_weakest: int = 2) -> ReadinessOverall:
    """Blueprint-weighted expected share correct over the whole exam, with its 80% range."""
    est = rd.combine([(r.weight, r.estimate()) for r in reports])
    weak = rd.weakest([(r.code, r.weight, r.readiness) for r in reports], n_weakest)
    return ReadinessOverall(est.mean, est.low, est.high, tuple(weak))

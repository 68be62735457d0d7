"""Per-area mastery and readiness for one profile, and the blueprint-weighted overall estimate."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, select

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import NEW, SchedState, retrievability, to_ms
from cmqprep.services.settings_cache import scheduler_config
from cmqprep.services.stats import areas as blueprint_areas

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


def area_report(engine: Engine, profile_id: int, settings: Settings,
                now: datetime) -> list[AreaReport]:
    """One report per blueprint area of the installed packs, in blueprint order."""
    now_ms = to_ms(now)
    cfg = scheduler_config(settings)
    bp = blueprint_areas(engine)
    total_scored = sum(scored for _, _, scored in bp) or 1
    since = to_ms(now - timedelta(days=QUIZ_WINDOW_DAYS))
    with read_session(engine) as s:
        items = s.execute(select(ItemRow.id, ItemRow.area, ItemRow.kind, ItemRow.options)
                          .where(ItemRow.retired.is_(False))).all()
        sched = {r.item_id: r for r in s.execute(
            select(ScheduleRow.item_id, ScheduleRow.state, ScheduleRow.stability,
                   ScheduleRow.last_review_ms).where(ScheduleRow.profile_id == profile_id,
                                                     ScheduleRow.state != NEW))}
        quiz = s.execute(
            select(ItemRow.area, ReviewRow.correct)
            .join(PackRow, PackRow.key == ReviewRow.pack_key)
            .join(ItemRow, and_(ItemRow.pack_id == PackRow.id, ItemRow.key == ReviewRow.item_key))
            .where(ReviewRow.profile_id == profile_id, ReviewRow.source.in_(("quiz", "exam")),
                   ReviewRow.correct.is_not(None), ReviewRow.reviewed_ms >= since,
                   ReviewRow.reviewed_ms <= now_ms)).all()
    per: dict[str, dict[str, list]] = {}

    def bucket(area: str) -> dict[str, list]:
        return per.setdefault(area, {"all": [], "quiz": []})

    for item_id, area, kind, options in items:
        bucket(area)["all"].append((kind, _guess(kind, options), sched.get(item_id)))
    for area, correct in quiz:
        bucket(area)["quiz"].append(bool(correct))

    reports = []
    titles = {code: (title, scored) for code, title, scored in bp}
    for code in [c for c, _, _ in bp] + sorted(set(per) - set(titles)):
        title, scored = titles.get(code, (code, 0))
        data = per.get(code, {"all": [], "quiz": []})
        rows = data["all"]
        recalls, mastered = [], 0
        for _kind, _g, row in rows:
            if row is None:
                continue
            st = SchedState(state=row.state, stability=row.stability,
                            last_review_ms=row.last_review_ms)
            recalls.append(retrievability(st, now_ms, cfg))
            mastered += rd.is_mastered(row.state, row.stability)
        # The exam asks questions; term cards only stand in when an area has no questions.
        scored_rows = [r for r in rows if r[0] == "question"] or rows
        seen_p = [rd.p_correct(retrievability(SchedState(state=r.state, stability=r.stability,
                                                         last_review_ms=r.last_review_ms),
                                              now_ms, cfg), g)
                  for _k, g, r in scored_rows if r is not None]
        unseen = sum(1 for r in scored_rows if r[2] is None)
        answers = data["quiz"]
        est = rd.area_estimate(seen_p, unseen, float(scored), sum(answers), len(answers))
        reports.append(AreaReport(
            code=code, title=title, weight=scored / total_scored, items=len(rows),
            seen=len(recalls), mastered=mastered,
            recall_now=sum(recalls) / len(recalls) if recalls else None,
            quiz_accuracy=sum(answers) / len(answers) if answers else None,
            quiz_answers=len(answers), readiness=est.mean, readiness_low=est.low,
            readiness_high=est.high, exam_questions=scored, draw_sd=est.draw_sd,
            unknown_sd=est.unknown_sd))
    return reports


def overall(reports: list[AreaReport], n_weakest: int = 2) -> ReadinessOverall:
    """Blueprint-weighted expected share correct over the whole exam, with its 80% range."""
    est = rd.combine([(r.weight, r.estimate()) for r in reports])
    weak = rd.weakest([(r.code, r.weight, r.readiness) for r in reports], n_weakest)
    return ReadinessOverall(est.mean, est.low, est.high, tuple(weak))

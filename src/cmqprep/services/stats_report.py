"""The full statistics report: readiness per area, history, streak, forecast, calibration, scores.

This reads the whole review log (the calibration replays every item's history), so the UI runs
it in a worker; `progress(done, total)` reports how far the replay has got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, func, select

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import ItemRow, ReviewRow, ScheduleRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import NEW, day_start, from_ms, to_ms
from cmqprep.services.readiness import AreaReport, ReadinessOverall, area_report, overall
from cmqprep.services.settings_cache import exam_day, scheduler_config
from cmqprep.services.stats import HomeCounts, home_counts

Progress = Callable[[int, int], None]
HISTORY_DAYS = 84  # twelve weeks of reviews per day
FORECAST_DAYS = 30


@dataclass(frozen=True)
class DayCount:
    day: date
    reviews: int
    studied_ms: int


@dataclass
class StatsReport:
    counts: HomeCounts
    areas: list[AreaReport]
    overall: ReadinessOverall
    days: list[DayCount]  # the last HISTORY_DAYS study days, oldest first, today last
    streak_days: int  # consecutive study days with a review, up to today (or yesterday)
    studied_ms_total: int
    studied_ms_week: int
    forecast: list[int]  # reviews due per study day from today (today includes overdue ones)
    target_retention: float
    calibration: list[rd.Bin]  # by interval since the previous review
    calibration_reviews: int
    log_loss: float | None
    baseline_log_loss: float | None  # a constant prediction (the overall recall share)
    attempts: list = field(default_factory=list)  # services.exam.AttemptResult, oldest first
    plan: rd.DailyPlan | None = None
    exam: date | None = None

    def to_json(self) -> dict[str, object]:
        out = self.counts.to_json()
        readiness = {a.code: a.to_json() for a in self.areas}
        for a in out["areas"]:  # type: ignore[union-attr]
            a.update(readiness.get(a["code"], {}))
        out["readiness"] = self.overall.to_json()
        out["history"] = [{"day": d.day.isoformat(), "reviews": d.reviews,
                           "studied_ms": d.studied_ms} for d in self.days]
        out["streak_days"] = self.streak_days
        out["studied_ms_total"] = self.studied_ms_total
        out["studied_ms_week"] = self.studied_ms_week
        out["forecast"] = self.forecast
        out["calibration"] = {
            "target_retention": self.target_retention, "reviews": self.calibration_reviews,
            "log_loss": _round(self.log_loss), "baseline_log_loss": _round(self.baseline_log_loss),
            "bands": [b.to_json() for b in self.calibration]}
        out["attempts"] = [a.to_json() for a in self.attempts]
        out["exam_date"] = self.exam.isoformat() if self.exam else None
        out["plan"] = self.plan.to_json() if self.plan else None
        return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _study_date(ms: int, settings: Settings) -> date:
    return rd.study_date(from_ms(ms), settings.tz(), settings.day_start_hour)


def _calibration(engine: Engine, profile_id: int, settings: Settings,
                 progress: Progress | None) -> list[rd.Prediction]:
    cfg = scheduler_config(settings)
    with read_session(engine) as s:
        total = s.scalar(select(func.count(func.distinct(ReviewRow.pack_key + "/" + ReviewRow.item_key)))
                         .where(ReviewRow.profile_id == profile_id)) or 0
        rows = s.execute(select(ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms,
                                ReviewRow.rating).where(ReviewRow.profile_id == profile_id)
                         .order_by(ReviewRow.pack_key, ReviewRow.item_key, ReviewRow.reviewed_ms,
                                   ReviewRow.id))
        preds: list[rd.Prediction] = []
        key: tuple[str, str] | None = None
        history: list[tuple[int, int]] = []
        done = 0
        for pack_key, item_key, at, rating in rows:
            if (pack_key, item_key) != key:
                preds.extend(rd.predictions(history, cfg))
                key, history = (pack_key, item_key), []
                done += 1
                if progress and done % 200 == 0:
                    progress(done, total)
            history.append((at, rating))
        preds.extend(rd.predictions(history, cfg))
    if progress:
        progress(total, total)
    # Same-day repeats are learning steps, not tests of memory across days.
    return [p for p in preds if p.elapsed_days >= rd.CALIBRATION_MIN_DAYS]


def stats_report(engine: Engine, profile_id: int, profile_name: str, settings: Settings,
                 now: datetime, progress: Progress | None = None) -> StatsReport:
    from cmqprep.services.exam import attempt_history

    counts = home_counts(engine, profile_id, profile_name, settings, now)
    areas = area_report(engine, profile_id, settings, now)
    tz, hour = settings.tz(), settings.day_start_hour
    today = rd.study_date(now, tz, hour)
    window_start = to_ms(day_start(now, tz, hour) - timedelta(days=HISTORY_DAYS + 1))
    with read_session(engine) as s:
        recent = s.execute(select(ReviewRow.reviewed_ms, ReviewRow.duration_ms).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= window_start)).all()
        studied_total = s.scalar(select(func.coalesce(func.sum(ReviewRow.duration_ms), 0)).where(
            ReviewRow.profile_id == profile_id)) or 0
        live = and_(ItemRow.id == ScheduleRow.item_id, ItemRow.retired.is_(False))
        horizon = to_ms(day_start(now, tz, hour) + timedelta(days=FORECAST_DAYS + 1))
        dues = s.scalars(select(ScheduleRow.due_ms).join(ItemRow, live).where(
            ScheduleRow.profile_id == profile_id, ScheduleRow.suspended.is_(False),
            ScheduleRow.state != NEW, ScheduleRow.due_ms < horizon)).all()
    per_day: dict[date, list[int]] = {}
    for at, dur in recent:
        d = per_day.setdefault(_study_date(at, settings), [0, 0])
        d[0] += 1
        d[1] += dur or 0
    days = [DayCount(today - timedelta(days=i), *per_day.get(today - timedelta(days=i), [0, 0]))
            for i in range(HISTORY_DAYS - 1, -1, -1)]
    streak = rd.streak(set(per_day), today)
    if streak >= HISTORY_DAYS:  # the streak goes back past the window: read the older days
        with read_session(engine) as s:
            older = s.scalars(select(ReviewRow.reviewed_ms).where(
                ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms < window_start)).all()
        streak = rd.streak(set(per_day) | {_study_date(at, settings) for at in older}, today)
    forecast = [0] * FORECAST_DAYS
    for due in dues:
        i = max(0, (_study_date(due, settings) - today).days) if due is not None else 0
        if i < FORECAST_DAYS:
            forecast[i] += 1
    preds = _calibration(engine, profile_id, settings, progress)
    base = sum(p.recalled for p in preds) / len(preds) if preds else None
    exam = exam_day(settings)
    plan = None
    if exam is not None:
        unseen = sum(a.new for a in counts.areas)
        plan = rd.daily_plan(today, exam, unseen, settings.new_per_day)
    return StatsReport(
        counts=counts, areas=areas, overall=overall(areas), days=days,
        streak_days=streak,
        studied_ms_total=int(studied_total),
        studied_ms_week=sum(d.studied_ms for d in days[-7:]),
        forecast=forecast, target_retention=settings.desired_retention,
        calibration=rd.calibration_by_interval(preds), calibration_reviews=len(preds),
        log_loss=rd.log_loss((p.predicted, p.recalled) for p in preds) if preds else None,
        baseline_log_loss=rd.log_loss((base, p.recalled) for p in preds) if base is not None
        else None,
        attempts=attempt_history(engine, profile_id), plan=plan, exam=exam)

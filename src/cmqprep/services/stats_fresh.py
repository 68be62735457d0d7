"""The history and calibration parts of the statistics report, computed from the whole log.

This is the reference the statistics cache (services/stats_cache) must agree with, and the path
taken on databases other than SQLite. It reads every review of the profile and replays each
item's history through FSRS, so it takes seconds at a million reviews.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, func, select

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import ItemRow, ReviewRow, ScheduleRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import NEW, day_start, from_ms, to_ms
from cmqprep.services.settings_cache import scheduler_config

Progress = Callable[[int, int], None]
HISTORY_DAYS = 84  # twelve weeks of reviews per day


@dataclass(frozen=True)
class DayCount:
    day: date
    reviews: int
    studied_ms: int


@dataclass(frozen=True)
class Activity:
    """Reviews per study day over the last HISTORY_DAYS days, the streak and time studied."""

    days: list[DayCount]  # oldest first, today last
    streak_days: int
    studied_ms_total: int
    studied_ms_week: int


@dataclass(frozen=True)
class Calibration:
    bins: list[rd.Bin]  # by interval since the previous review
    reviews: int
    log_loss: float | None
    baseline_log_loss: float | None  # a constant prediction (the overall recall share)


def window_start_ms(now: datetime, settings: Settings) -> int:
    """Reviews at or after this instant can fall in the history window (one spare day)."""
    tz, hour = settings.tz(), settings.day_start_hour
    return to_ms(day_start(now, tz, hour) - timedelta(days=HISTORY_DAYS + 1))


def activity_from_days(per_day: dict[date, list[int]], today: date, streak: int,
                       studied_total: int) -> Activity:
    days = [DayCount(today - timedelta(days=i), *per_day.get(today - timedelta(days=i), [0, 0]))
            for i in range(HISTORY_DAYS - 1, -1, -1)]
    return Activity(days, streak, int(studied_total), sum(d.studied_ms for d in days[-7:]))


def _study_date(ms: int, settings: Settings) -> date:
    return rd.study_date(from_ms(ms), settings.tz(), settings.day_start_hour)


def fresh_activity(engine: Engine, profile_id: int, settings: Settings,
                   now: datetime) -> Activity:
    today = rd.study_date(now, settings.tz(), settings.day_start_hour)
    window_start = window_start_ms(now, settings)
    with read_session(engine) as s:
        recent = s.execute(select(ReviewRow.reviewed_ms, ReviewRow.duration_ms).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= window_start)).all()
        studied_total = s.scalar(select(func.coalesce(func.sum(ReviewRow.duration_ms), 0)).where(
            ReviewRow.profile_id == profile_id)) or 0
    per_day: dict[date, list[int]] = {}
    for at, dur in recent:
        d = per_day.setdefault(_study_date(at, settings), [0, 0])
        d[0] += 1
        d[1] += dur or 0
    streak = rd.streak(set(per_day), today)
    if streak >= HISTORY_DAYS:  # the streak goes back past the window: read the older days
        with read_session(engine) as s:
            older = s.scalars(select(ReviewRow.reviewed_ms).where(
                ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms < window_start)).all()
        streak = rd.streak(set(per_day) | {_study_date(at, settings) for at in older}, today)
    return activity_from_days(per_day, today, streak, studied_total)


def fresh_forecast(engine: Engine, profile_id: int, settings: Settings, now: datetime,
                   days: int) -> list[int]:
    """Reviews due per study day from today (overdue ones count today), live items only."""
    tz, hour = settings.tz(), settings.day_start_hour
    today = rd.study_date(now, tz, hour)
    with read_session(engine) as s:
        live = and_(ItemRow.id == ScheduleRow.item_id, ItemRow.retired.is_(False))
        horizon = to_ms(day_start(now, tz, hour) + timedelta(days=days + 1))
        dues = s.scalars(select(ScheduleRow.due_ms).join(ItemRow, live).where(
            ScheduleRow.profile_id == profile_id, ScheduleRow.suspended.is_(False),
            ScheduleRow.state != NEW, ScheduleRow.due_ms < horizon)).all()
    forecast = [0] * days
    for due in dues:
        i = max(0, (_study_date(due, settings) - today).days) if due is not None else 0
        if i < days:
            forecast[i] += 1
    return forecast


def fresh_predictions(engine: Engine, profile_id: int, settings: Settings,
                      progress: Progress | None = None) -> list[rd.Prediction]:
    """Every review predicted from its item's earlier reviews (at least a day apart)."""
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


def fresh_calibration(engine: Engine, profile_id: int, settings: Settings,
                      progress: Progress | None = None) -> Calibration:
    preds = fresh_predictions(engine, profile_id, settings, progress)
    base = sum(p.recalled for p in preds) / len(preds) if preds else None
    return Calibration(
        bins=rd.calibration_by_interval(preds), reviews=len(preds),
        log_loss=rd.log_loss((p.predicted, p.recalled) for p in preds) if preds else None,
        baseline_log_loss=rd.log_loss((base, p.recalled) for p in preds) if base is not None
        else None)

"""The full statistics report: readiness per area, history, streak, forecast, calibration, scores.

History and calibration come from the statistics cache (services/stats_cache), which folds in
only the reviews added since the report was last opened; its first build replays the whole log
(seconds at a million reviews), so the UI runs the report in a worker and `progress(done,
total)` reports how far a replay has got. `fresh=True` computes those parts from the whole log
instead (services/stats_fresh: the reference, and the path on databases other than SQLite).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import StatsBandRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import MS_PER_DAY, day_start, from_ms, to_ms
from cmqprep.services import stats_cache
from cmqprep.services.readiness import AreaReport, ReadinessOverall, area_report, overall
from cmqprep.services.settings_cache import exam_day
from cmqprep.services.stats import HomeCounts, home_counts
from cmqprep.services.stats_fresh import (
    HISTORY_DAYS,
    Activity,
    Calibration,
    DayCount,
    activity_from_days,
    fresh_activity,
    fresh_calibration,
    fresh_forecast,
    window_start_ms,
)

__all__ = ["FORECAST_DAYS", "HISTORY_DAYS", "DayCount", "StatsReport", "stats_report"]

Progress = Callable[[int, int], None]
FORECAST_DAYS = 30


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


def cached_calibration(engine: Engine, profile_id: int) -> Calibration:
    """Calibration from the cache's per-band sums (call stats_cache.refresh first)."""
    with read_session(engine) as s:
        rows = s.execute(select(StatsBandRow.band, StatsBandRow.n, StatsBandRow.predicted,
                                StatsBandRow.recalled, StatsBandRow.loss)
                         .where(StatsBandRow.profile_id == profile_id)).all()
    sums = {b: (n, sp, sy) for b, n, sp, sy, _ in rows if n}
    n = sum(r[1] for r in rows)
    recalled = sum(r[3] for r in rows)
    loss = sum(r[4] for r in rows)
    return Calibration(bins=rd.bins_from_sums(sums), reviews=n,
                       log_loss=loss / n if n else None,
                       baseline_log_loss=rd.baseline_log_loss(n, recalled))


_RECENT = ("SELECT start_ms, reviews, duration_ms FROM stats_buckets "
           "WHERE profile_id = ? AND start_ms >= ? AND reviews > 0")
_TOTAL = "SELECT coalesce(sum(duration_ms), 0) FROM stats_buckets WHERE profile_id = ?"
_OLDER = ("SELECT start_ms FROM stats_buckets WHERE profile_id = ? AND start_ms < ? "
          "AND reviews > 0 ORDER BY start_ms")


def cached_activity(engine: Engine, profile_id: int, settings: Settings,
                    now: datetime) -> Activity:
    """Reviews per day, streak and time studied from the cache's 15-minute buckets."""
    days = rd.StudyDays(settings.tz(), settings.day_start_hour)
    index_of = days.index_of
    today = rd.study_date(now, settings.tz(), settings.day_start_hour)
    first = stats_cache.bucket_of(window_start_ms(now, settings))
    with read_session(engine) as s:
        # Plain DBAPI reads: a cache is SQLite-only, and SQLAlchemy's per-row cost would be
        # most of the time here.
        raw = s.connection().connection.driver_connection
        recent = raw.execute(_RECENT, (profile_id, first)).fetchall()
        total = raw.execute(_TOTAL, (profile_id,)).fetchone()[0]
        per_index: dict[int, list[int]] = {}
        for start, n, dur in recent:
            d = per_index.setdefault(index_of(start), [0, 0])
            d[0] += n
            d[1] += dur
        active = set(per_index)
        t = rd.day_index(today)
        streak = rd.streak_index(active, t)
        if streak >= HISTORY_DAYS:  # the streak goes back past the window: read older buckets
            older = set(active)
            starts = [ms for (ms,) in raw.execute(_OLDER, (profile_id, first))]
            i = 0
            while i < len(starts):  # one UTC day at a time
                utc_day = starts[i] // MS_PER_DAY
                j = bisect_left(starts, (utc_day + 1) * MS_PER_DAY, i)
                if days.constant_on(utc_day):
                    # One offset all day: its buckets span at most two study days, in order.
                    older.update((index_of(starts[i]), index_of(starts[j - 1])))
                else:  # the offset changes that day (DST): bucket by bucket
                    older.update(index_of(ms) for ms in starts[i:j])
                i = j
            streak = rd.streak_index(older, t)
    per_day = {today - timedelta(days=t - i): v for i, v in per_index.items()}
    return activity_from_days(per_day, today, streak, total)


def _study_date(ms: int, settings: Settings) -> date:
    return rd.study_date(from_ms(ms), settings.tz(), settings.day_start_hour)


# Due dates of started, unsuspended items up to the horizon, from the covering index
# ix_schedule_due (overdue ones only counted); retired items (few) are read apart and taken
# out, instead of probing every item row for `retired`.
_OVERDUE = ("SELECT count(*) FROM schedule WHERE profile_id = ? AND suspended = 0 "
            "AND state != 0 AND due_ms < ?")
# Grouped by 15-minute bucket: study days begin on bucket boundaries (as in stats_cache), so
# each bucket belongs to one study day and at most 31 * 96 buckets need mapping.
_DUES = ("SELECT due_ms / 900000, count(*) FROM schedule WHERE profile_id = ? "
         "AND suspended = 0 AND state != 0 AND due_ms >= ? AND due_ms < ? GROUP BY 1")
# CROSS JOIN keeps items (retired ones, through ix_items_order) on the outside; left to
# itself SQLite walks every due schedule row and probes its item.
_RETIRED_DUES = ("SELECT s.due_ms / 900000, 1 FROM items i CROSS JOIN schedule s "
                 "ON s.profile_id = ? AND s.item_id = i.id "
                 "WHERE i.retired = 1 AND s.suspended = 0 AND s.state != 0 AND s.due_ms >= ? "
                 "AND s.due_ms < ?")
_RETIRED_OVERDUE = ("SELECT count(*) FROM items i CROSS JOIN schedule s "
                    "ON s.profile_id = ? AND s.item_id = i.id "
                    "WHERE i.retired = 1 AND s.suspended = 0 AND s.state != 0 AND s.due_ms < ?")


def due_forecast(engine: Engine, profile_id: int, settings: Settings,
                 now: datetime) -> list[int]:
    """stats_fresh.fresh_forecast from the index alone (SQLite; the same figures)."""
    tz, hour = settings.tz(), settings.day_start_hour
    if not stats_cache.supported(engine):
        return fresh_forecast(engine, profile_id, settings, now, FORECAST_DAYS)
    start = day_start(now, tz, hour)
    today_ms = to_ms(start)
    horizon = to_ms(start + timedelta(days=FORECAST_DAYS + 1))
    days = rd.StudyDays(tz, hour)
    t = rd.day_index(rd.study_date(now, tz, hour))
    forecast = [0] * FORECAST_DAYS
    with read_session(engine) as s:
        raw = s.connection().connection.driver_connection
        forecast[0] = (raw.execute(_OVERDUE, (profile_id, today_ms)).fetchone()[0]
                       - raw.execute(_RETIRED_OVERDUE, (profile_id, today_ms)).fetchone()[0])
        for sign, sql in ((1, _DUES), (-1, _RETIRED_DUES)):
            for bucket, n in raw.execute(sql, (profile_id, today_ms, horizon)):
                i = max(0, days.index_of(bucket * stats_cache.BUCKET_MS) - t)
                if i < FORECAST_DAYS:
                    forecast[i] += sign * n
    return forecast


def stats_report(engine: Engine, profile_id: int, profile_name: str, settings: Settings,
                 now: datetime, progress: Progress | None = None,
                 fresh: bool = False) -> StatsReport:
    from cmqprep.services.exam import attempt_history

    cached = not fresh and stats_cache.supported(engine) and stats_cache.refresh(
        engine, profile_id, settings, progress)
    if cached:
        activity = cached_activity(engine, profile_id, settings, now)
        cal = cached_calibration(engine, profile_id)
    else:
        activity = fresh_activity(engine, profile_id, settings, now)
        cal = fresh_calibration(engine, profile_id, settings, progress)
    counts = home_counts(engine, profile_id, profile_name, settings, now)
    areas = area_report(engine, profile_id, settings, now)
    today = rd.study_date(now, settings.tz(), settings.day_start_hour)
    forecast = (fresh_forecast(engine, profile_id, settings, now, FORECAST_DAYS) if fresh
                else due_forecast(engine, profile_id, settings, now))
    exam = exam_day(settings)
    plan = None
    if exam is not None:
        unseen = sum(a.new for a in counts.areas)
        plan = rd.daily_plan(today, exam, unseen, settings.new_per_day)
    return StatsReport(
        counts=counts, areas=areas, overall=overall(areas), days=activity.days,
        streak_days=activity.streak_days,
        studied_ms_total=activity.studied_ms_total,
        studied_ms_week=activity.studied_ms_week,
        forecast=forecast, target_retention=settings.desired_retention,
        calibration=cal.bins, calibration_reviews=cal.reviews,
        log_loss=cal.log_loss, baseline_log_loss=cal.baseline_log_loss,
        attempts=attempt_history(engine, profile_id), plan=plan, exam=exam)

"""Scheduler configuration per profile, read from the settings table inside a session."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmqprep.config import Settings, settings_from_rows
from cmqprep.db.models import ProfileRow, SettingRow
from cmqprep.domain.scheduling import SchedulerConfig, exam_cap_ms


def exam_day(settings: Settings) -> date | None:
    """The exam date as a date, or None when unset (or unreadable: validation refuses it)."""
    try:
        return date.fromisoformat(settings.exam_date) if settings.exam_date else None
    except ValueError:
        return None


def scheduler_config(settings: Settings) -> SchedulerConfig:
    exam = exam_day(settings)
    cap = exam_cap_ms(exam, settings.tz(), settings.day_start_hour) if exam else None
    return SchedulerConfig(desired_retention=settings.desired_retention, exam_cap_ms=cap)


def scheduler_configs(session: Session) -> dict[int, SchedulerConfig]:
    """Each profile's scheduler configuration (profiles without settings use the defaults)."""
    rows: dict[int, dict[str, str]] = {pid: {} for pid in session.scalars(select(ProfileRow.id))}
    for r in session.scalars(select(SettingRow)):
        rows.setdefault(r.profile_id, {})[r.key] = r.value
    return {pid: scheduler_config(settings_from_rows(v)) for pid, v in rows.items()}

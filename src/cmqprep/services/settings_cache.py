"""Scheduler configuration per profile, read from the settings table inside a session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmqprep.config import Settings, settings_from_rows
from cmqprep.db.models import ProfileRow, SettingRow
from cmqprep.domain.scheduling import SchedulerConfig


def scheduler_config(settings: Settings) -> SchedulerConfig:
    return SchedulerConfig(desired_retention=settings.desired_retention)


def scheduler_configs(session: Session) -> dict[int, SchedulerConfig]:
    """Each profile's scheduler configuration (profiles without settings use the defaults)."""
    rows: dict[int, dict[str, str]] = {pid: {} for pid in session.scalars(select(ProfileRow.id))}
    for r in session.scalars(select(SettingRow)):
        rows.setdefault(r.profile_id, {})[r.key] = r.value
    return {pid: scheduler_config(settings_from_rows(v)) for pid, v in rows.items()}

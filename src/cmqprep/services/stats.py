"""Counts for the home screen and `cmqprep stats`: due, new and seen, overall and per area."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, func, select

from cmqprep.config import Settings
from cmqprep.db.engine import read_session
from cmqprep.db.models import AreaRow, ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import NEW, day_start, next_day_start, to_ms


@dataclass
class AreaCounts:
    code: str
    title: str
    items: int = 0
    seen: int = 0
    due: int = 0
    new: int = 0
    weight: int = 0  # scored questions in the blueprint


@dataclass
class HomeCounts:
    profile: str
    reviews_total: int
    reviews_today: int
    due_now: int
    new_available: int
    new_today: int
    areas: list[AreaCounts] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def areas(engine: Engine) -> list[tuple[str, str, int]]:
    """BoK areas of the installed packs (code, title, scored), in blueprint order.

    Areas with the same code in several packs are one area (the first pack's title wins)."""
    with read_session(engine) as s:
        rows = s.execute(select(AreaRow.code, AreaRow.title, AreaRow.scored)
                         .join(PackRow, PackRow.id == AreaRow.pack_id)
                         .order_by(PackRow.installed_ms, PackRow.id, AreaRow.position)).all()
    seen: dict[str, tuple[str, str, int]] = {}
    for code, title, scored in rows:
        seen.setdefault(code, (code, title, scored))
    return list(seen.values())


def home_counts(engine: Engine, profile_id: int, profile_name: str, settings: Settings,
                now: datetime) -> HomeCounts:
    tz = settings.tz()
    start = to_ms(day_start(now, tz, settings.day_start_hour))
    end = to_ms(next_day_start(now, tz, settings.day_start_hour))
    per_area = {code: AreaCounts(code, title, weight=scored) for code, title, scored in areas(engine)}
    with read_session(engine) as s:
        live = and_(ItemRow.id == ScheduleRow.item_id, ItemRow.retired.is_(False))
        for area, n in s.execute(select(ItemRow.area, func.count()).where(
                ItemRow.retired.is_(False)).group_by(ItemRow.area)):
            per_area.setdefault(area, AreaCounts(area, area)).items = n
        for area, n in s.execute(select(ScheduleRow.area, func.count()).join(ItemRow, live).where(
                ScheduleRow.profile_id == profile_id, ScheduleRow.state != NEW)
                .group_by(ScheduleRow.area)):
            per_area.setdefault(area, AreaCounts(area, area)).seen = n
        for area, n in s.execute(select(ScheduleRow.area, func.count()).join(ItemRow, live).where(
                ScheduleRow.profile_id == profile_id, ScheduleRow.suspended.is_(False),
                ScheduleRow.state != NEW, ScheduleRow.due_ms < end).group_by(ScheduleRow.area)):
            per_area.setdefault(area, AreaCounts(area, area)).due = n
        started = select(ScheduleRow.area, func.count()).join(ItemRow, live).where(
            ScheduleRow.profile_id == profile_id).group_by(ScheduleRow.area)
        started_per_area = dict(s.execute(started).all())
        today = dict(s.execute(select(ReviewRow.state_before, func.count()).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= start,
            ReviewRow.source == "study").group_by(ReviewRow.state_before)).all())
        reviews_total = s.scalar(select(func.count()).select_from(ReviewRow).where(
            ReviewRow.profile_id == profile_id)) or 0
        reviews_today = s.scalar(select(func.count()).select_from(ReviewRow).where(
            ReviewRow.profile_id == profile_id, ReviewRow.reviewed_ms >= start)) or 0
    for a in per_area.values():
        a.new = max(0, a.items - started_per_area.get(a.code, 0))
    new_today = today.get(NEW, 0)
    unseen = sum(a.new for a in per_area.values())
    new_left = max(0, settings.new_per_day - new_today)
    due = sum(a.due for a in per_area.values())
    return HomeCounts(profile_name, reviews_total, reviews_today, due, min(unseen, new_left),
                      new_today, list(per_area.values()))

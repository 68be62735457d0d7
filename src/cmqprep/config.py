"""Study settings as one typed object, stored per profile in the database's settings table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Settings:
    new_per_day: int = 20
    reviews_per_day: int = 200
    day_start_hour: int = 4
    desired_retention: float = 0.9
    timezone: str = ""  # IANA name; empty means the computer's local time zone
    exam_pass_percent: int = 70
    exam_date: str = ""  # YYYY-MM-DD or empty
    pause_exam_clock: bool = False  # True: a mock exam's clock stops while you are away

    def tz(self) -> tzinfo:
        if self.timezone:
            try:
                return ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return datetime.now().astimezone().tzinfo or timezone.utc

    def validate(self) -> list[str]:
        out = []
        if not 0 <= self.new_per_day <= 9999:
            out.append("new_per_day must be 0-9999")
        if not 0 <= self.reviews_per_day <= 99999:
            out.append("reviews_per_day must be 0-99999")
        if not 0 <= self.day_start_hour <= 23:
            out.append("day_start_hour must be 0-23")
        if not 0.7 <= self.desired_retention <= 0.99:
            out.append("desired_retention must be between 0.70 and 0.99")
        if not 1 <= self.exam_pass_percent <= 100:
            out.append("exam_pass_percent must be 1-100")
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                out.append(f"unknown time zone {self.timezone!r}")
        if self.exam_date:
            try:
                datetime.strptime(self.exam_date, "%Y-%m-%d")
            except ValueError:
                out.append("exam_date must look like 2027-03-15")
        return out


def settings_from_rows(rows: dict[str, str]) -> Settings:
    """Build Settings from stored JSON values; unknown or ill-typed entries fall back to defaults."""
    base = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name in rows:
            try:
                value = json.loads(rows[f.name])
            except ValueError:
                continue
            default = getattr(base, f.name)
            if isinstance(default, bool) or isinstance(value, bool):
                if isinstance(default, bool) and isinstance(value, bool):
                    values[f.name] = value
            elif isinstance(value, type(default)):
                values[f.name] = value
            elif isinstance(getattr(base, f.name), float) and isinstance(value, int):
                values[f.name] = float(value)
    s = base
    for key, value in values.items():
        candidate = replace(s, **{key: value})
        if not candidate.validate():
            s = candidate
    return s


def parse_setting(current: object, text: str) -> object:
    """A setting's value typed from command-line text; raises ValueError if it does not fit."""
    if isinstance(current, bool):
        words = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}
        if text.strip().lower() not in words:
            raise ValueError(text)
        return words[text.strip().lower()]
    return type(current)(text)


def settings_to_rows(s: Settings) -> dict[str, str]:
    return {k: json.dumps(v) for k, v in asdict(s).items()}

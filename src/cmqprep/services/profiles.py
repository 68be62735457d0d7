"""Profiles: one learner's schedule and history; the default one is created on first run."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Engine, select

from cmqprep.config import Settings, settings_from_rows, settings_to_rows
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import ProfileRow, SettingRow

DEFAULT_PROFILE = "default"
NAME_PATTERN = re.compile(r"^[\w][\w .@-]{0,63}$")


class ProfileError(Exception):
    pass


def ensure_profile(engine: Engine, name: str, now_ms: int, create: bool = True) -> int:
    """The id of profile `name`, creating it when `create` (the default profile always is)."""
    with read_session(engine) as s:
        pid = s.scalar(select(ProfileRow.id).where(ProfileRow.name == name))
    if pid is not None:
        return pid
    if not create and name != DEFAULT_PROFILE:
        raise ProfileError(f"no profile named {name!r}; create it with "
                           f"'cmqprep profile create {name}'")
    try:
        return create_profile(engine, name, now_ms)
    except ProfileError:
        # Another process (a second terminal on first run) created it since we looked.
        with read_session(engine) as s:
            pid = s.scalar(select(ProfileRow.id).where(ProfileRow.name == name))
        if pid is None:
            raise
        return pid


def create_profile(engine: Engine, name: str, now_ms: int) -> int:
    if not NAME_PATTERN.match(name):
        raise ProfileError("a profile name is 1-64 letters, digits, spaces, '.', '@', '_' or '-'")
    with write_session(engine) as s:
        if s.scalar(select(ProfileRow.id).where(ProfileRow.name == name)) is not None:
            raise ProfileError(f"a profile named {name!r} already exists")
        row = ProfileRow(name=name, member_id=uuid.uuid4().hex, created_ms=now_ms)
        s.add(row)
        s.flush()
        return row.id


def list_profiles(engine: Engine) -> list[tuple[int, str]]:
    with read_session(engine) as s:
        return [(r.id, r.name) for r in s.scalars(select(ProfileRow).order_by(ProfileRow.name))]


def load_settings(engine: Engine, profile_id: int) -> Settings:
    with read_session(engine) as s:
        rows = {r.key: r.value for r in s.scalars(
            select(SettingRow).where(SettingRow.profile_id == profile_id))}
    return settings_from_rows(rows)


def save_settings(engine: Engine, profile_id: int, settings: Settings) -> None:
    problems = settings.validate()
    if problems:
        raise ProfileError("; ".join(problems))
    with write_session(engine) as s:
        for key, value in settings_to_rows(settings).items():
            s.merge(SettingRow(profile_id=profile_id, key=key, value=value))

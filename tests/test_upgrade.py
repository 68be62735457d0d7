"""Upgrades: a database made by the first released schema opens with today's code, losing nothing;
and the migrations produce exactly the schema the models describe."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

from cmqprep.db.engine import HEAD, current_revision, default_url
from cmqprep.services.context import open_context
from tests.conftest import FakeClock

FIXTURE = Path(__file__).parent / "fixtures" / "schema-0001.sqlite3"


def _dump(path: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    con = sqlite3.connect(path)
    try:
        reviews = con.execute("SELECT id, profile_id, pack_key, item_key, reviewed_ms, rating, "
                              "duration_ms, source, chosen, correct FROM reviews ORDER BY id").fetchall()
        settings = con.execute("SELECT profile_id, key, value FROM settings "
                               "ORDER BY profile_id, key").fetchall()
        schedule = con.execute("SELECT profile_id, item_id, state, stability, due_ms, reps "
                               "FROM schedule ORDER BY profile_id, item_id").fetchall()
        return reviews, settings, schedule
    finally:
        con.close()


def test_first_schema_database_upgrades_with_every_review_and_setting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "cmqprep.sqlite"
    shutil.copy(FIXTURE, db)
    reviews, settings, schedule = _dump(db)
    assert len(reviews) == 19 and settings and schedule  # the fixture is what we think it is

    ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(1),
                       bank_dir=tmp_path / "no-bank")
    try:
        assert current_revision(ctx.engine) == HEAD
        assert ctx.settings.new_per_day == 7 and ctx.settings.exam_date == "2026-06-01"
    finally:
        ctx.engine.dispose()
    assert _dump(db) == (reviews, settings, schedule)
    backups = list((data / "backups").glob("*before-migration-0001*"))
    assert len(backups) == 1
    assert _dump(backups[0])[0] == reviews


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cmqprep.db.engine import make_engine, migrate
    from cmqprep.db.models import Base

    engine = make_engine(default_url(tmp_path))
    migrate(engine, None, FakeClock()())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []

"""Automatic rotating backups, `cmqprep backup list|create|restore`, full disks and privacy."""

from __future__ import annotations

import errno
import os
import random
import shutil
import sqlite3
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event

import cmqprep.db.engine as engine_module
import cmqprep.services.backups as backups_module
from cmqprep.cli import main
from cmqprep.db.engine import HEAD, DatabaseError, default_url, open_database
from cmqprep.services.backups import (
    BackupError,
    daily_backup,
    list_backups,
    make_backup,
    rotate,
)
from cmqprep.services.context import open_context
from cmqprep.services.study import StudySession
from tests.conftest import FakeClock

FIXTURE = Path(__file__).parent / "fixtures" / "schema-0001.sqlite3"
UTC = timezone.utc


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def count(path: Path, table: str = "reviews") -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def study(ctx, n: int) -> None:
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    for _ in range(n):
        card = session.next_card()
        assert card is not None
        if card.kind == "question":
            session.answer_choice(card, card.answer, 1000)
        else:
            session.rate(card, 3, 1000)
        ctx.clock.advance(minutes=1)


def db_file(ctx) -> Path:
    return Path(ctx.engine.url.database)


def daily_dates(backups: Path) -> list[date]:
    return [b.taken.date() for b in list_backups(backups) if b.label == "daily"]


# ---- rotation -----------------------------------------------------------------------------

def test_one_daily_backup_per_utc_day_and_rotation_keeps_7_daily_and_4_weekly(ctx) -> None:
    src, backups = db_file(ctx), ctx.data_dir / "backups"
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
    for _day in range(40):
        for hour in (0, 5, 9):  # opened three times a day: one backup
            daily_backup(src, backups, now + timedelta(hours=hour))
        now += timedelta(days=1)
    last = date(2026, 4, 10)  # a Friday
    dailies = [last - timedelta(days=n) for n in range(7)]
    # The newest of each of the 4 newest ISO weeks: 04-10 and 04-05 are dailies already.
    weeklies = [date(2026, 3, 29), date(2026, 3, 22)]
    assert sorted(daily_dates(backups)) == sorted(dailies + weeklies)
    assert len(set(daily_dates(backups))) == len(daily_dates(backups))


def test_rotation_counts_days_that_have_backups_not_calendar_days(ctx) -> None:
    """Someone who studies once every ten days keeps 7 daily copies reaching back 2 months."""
    src, backups = db_file(ctx), ctx.data_dir / "backups"
    opened = [datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(days=10 * n) for n in range(12)]
    for when in opened:
        daily_backup(src, backups, when)
    kept = daily_dates(backups)
    assert kept == [d.date() for d in opened[-7:]]  # the 4 newest weeks are among these 7


def test_rotation_never_deletes_other_labels_or_foreign_files(ctx) -> None:
    src, backups = db_file(ctx), ctx.data_dir / "backups"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    manual = make_backup(src, backups, "manual", start)
    migration = make_backup(src, backups, "before-migration-0001", start)
    (backups / "notes.txt").write_text("mine")
    for n in range(30):
        daily_backup(src, backups, start + timedelta(days=n))
    assert manual.exists() and migration.exists() and (backups / "notes.txt").exists()
    assert len(daily_dates(backups)) <= 7 + 4
    assert rotate(backups) == []  # already rotated: nothing more to delete


def test_daily_backup_is_one_directory_listing_when_not_due(ctx, monkeypatch) -> None:
    src, backups = db_file(ctx), ctx.data_dir / "backups"
    first = daily_backup(src, backups, ctx.clock())
    assert first is not None
    calls: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(backups_module.os, "listdir",
                        lambda p: calls.append("listdir") or real_listdir(p))
    monkeypatch.setattr(backups_module.os, "scandir", lambda p: pytest.fail("scandir"))
    monkeypatch.setattr(backups_module, "_copy", lambda a, b: pytest.fail("copied again"))
    ctx.clock.advance(hours=3)
    assert daily_backup(src, backups, ctx.clock()) is None
    assert calls == ["listdir"]


def test_open_backs_up_an_existing_database_once_a_day_but_not_a_new_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = FakeClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    engine = open_database(default_url(data), data, clock())
    engine.dispose()
    assert list_backups(data / "backups") == []  # nothing worth keeping yet
    for _ in range(2):
        clock.advance(hours=1)
        open_database(default_url(data), data, clock()).dispose()
    assert [b.label for b in list_backups(data / "backups")] == ["daily"]
    clock.advance(days=1)
    open_database(default_url(data), data, clock()).dispose()
    assert daily_dates(data / "backups") == [date(2026, 3, 2), date(2026, 3, 3)]


# ---- failures: full disk, read-only ---------------------------------------------------------

def _enospc(src: Path, dest: Path) -> None:
    dest.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)  # half a copy, then the disk fills
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_during_a_backup_leaves_no_partial_backup(ctx, monkeypatch) -> None:
    study(ctx, 2)
    before = dump(db_file(ctx))
    backups = ctx.data_dir / "backups"
    monkeypatch.setattr(backups_module, "_copy", _enospc)
    with pytest.raises(BackupError, match="No space left on device"):
        make_backup(db_file(ctx), backups, "manual", ctx.clock())
    assert list(backups.iterdir()) == []
    warnings: list[str] = []
    assert daily_backup(db_file(ctx), backups, ctx.clock(), warnings.append) is None
    assert "automatic backup was not made" in warnings[0] and list(backups.iterdir()) == []
    assert dump(db_file(ctx)) == before


def test_no_migration_without_its_backup(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "cmqprep.sqlite"
    shutil.copy(FIXTURE, db)
    before = dump(db)
    monkeypatch.setattr(backups_module, "_copy", _enospc)
    with pytest.raises(DatabaseError, match="could not back up"):
        open_database(default_url(data), data, FakeClock()())
    assert dump(db) == before  # still schema 0001, nothing half-migrated


def _limit_pages(monkeypatch, extra_pages: int) -> None:
    """Make every new engine's connections hit SQLITE_FULL after `extra_pages` more pages."""
    real = engine_module.make_engine

    def limited(url: str):  # type: ignore[no-untyped-def]
        engine = real(url)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count={pages + extra_pages}")

        return engine

    monkeypatch.setattr(engine_module, "make_engine", limited)


def test_a_full_disk_during_pack_install_is_a_clear_error_and_changes_nothing(
        tmp_path: Path, monkeypatch, capsys) -> None:
    from tests.conftest import question, write_pack

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "stats"]) == 0  # the bundled bank is installed
    db = data / "cmqprep.sqlite"
    before = dump(db)
    long = "word " * 400
    items = "\n".join(question(f"z{n}", stem=f"Question {n}? {long}") for n in range(300))
    pack = write_pack(tmp_path / "big", items.replace('id = "mini"', 'id = "big"'))
    (pack / "pack.toml").write_text((pack / "pack.toml").read_text().replace('"mini"', '"big"'))
    _limit_pages(monkeypatch, 3)
    capsys.readouterr()
    assert main(["--data-dir", str(data), "pack", "install", str(pack)]) == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert dump(db) == before
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_read_only_database_gives_a_clear_error_and_changes_nothing(ctx, monkeypatch) -> None:
    from cmqprep.domain.scheduling import Grade

    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng)
    card = session.next_card()
    before = dump(db_file(ctx))
    ctx.engine.dispose()

    @event.listens_for(ctx.engine, "connect")
    def _ro(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA query_only=ON")  # what SQLite does on a read-only file

    with pytest.raises(DatabaseError, match="read-only"):
        session.rate(card, Grade.GOOD, 1000)
    assert dump(db_file(ctx)) == before and session.history == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_data_directory_is_refused_before_anything_is_written(
        tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "stats"]) == 0
    before = dump(data / "cmqprep.sqlite")
    os.chmod(data, 0o500)
    try:
        assert main(["--data-dir", str(data), "stats"]) == 1
        assert "read-only" in capsys.readouterr().err
    finally:
        os.chmod(data, 0o700)
    assert dump(data / "cmqprep.sqlite") == before


# ---- privacy ----------------------------------------------------------------------------------

def test_database_wal_and_backups_are_owner_only_even_with_a_permissive_umask(
        tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        data = tmp_path / "data"
        clock = FakeClock()
        ctx = open_context(data, default_url(data), "default", clock, random.Random(1),
                           bank_dir=tmp_path / "none")
        made = make_backup(db_file(ctx), data / "backups", "manual", clock())
        clock.advance(days=1)
        ctx.engine.dispose()
        ctx = open_context(data, default_url(data), "default", clock, random.Random(1),
                           bank_dir=tmp_path / "none")
        with ctx.engine.connect():
            files = [p for p in data.iterdir() if p.is_file()] + list((data / "backups").iterdir())
            assert {p.name for p in files} >= {"cmqprep.sqlite", "cmqprep.sqlite-wal",
                                               made.name}
            assert len(list_backups(data / "backups")) == 2  # manual + the new day's daily
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE((data / "backups").stat().st_mode) == 0o700
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        ctx.engine.dispose()
    finally:
        os.umask(old)


# ---- the backup command ------------------------------------------------------------------------

def test_backup_create_list_and_restore_round_trip(ctx, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    study(ctx, 2)
    assert main(["backup", "create"]) == 0
    name = list_backups(ctx.data_dir / "backups")[-1].name
    study(ctx, 2)
    assert count(db_file(ctx)) == 4
    capsys.readouterr()
    assert main(["backup", "list"]) == 0
    assert name in capsys.readouterr().out

    assert main(["backup", "restore", name]) == 1  # stdin is not a terminal: not confirmed
    assert "not restored" in capsys.readouterr().err and count(db_file(ctx)) == 4

    assert main(["backup", "restore", name, "-y"]) == 0
    assert count(db_file(ctx)) == 2  # seen through the running engine too:
    from sqlalchemy import text

    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reviews")).scalar() == 2
    saved = [b for b in list_backups(ctx.data_dir / "backups") if b.label == "before-restore"]
    assert len(saved) == 1 and count(saved[0].path) == 4  # nothing is ever lost


def test_restore_of_an_old_schema_migrates_it(ctx, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    assert main(["backup", "restore", "-y", str(FIXTURE)]) == 0
    assert "Upgraded the restored database from schema 0001" in capsys.readouterr().out
    con = sqlite3.connect(db_file(ctx))
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 19
    con.close()
    assert dump(FIXTURE) == dump(FIXTURE)  # the committed fixture is read, never written


@pytest.mark.parametrize("kind", ["garbage", "not-cmqprep", "newer", "damaged", "missing"])
def test_restore_refuses_unusable_files_and_changes_nothing(ctx, tmp_path: Path, monkeypatch,
                                                            capsys, kind: str) -> None:
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    study(ctx, 1)
    bad = tmp_path / f"{kind}.sqlite"
    if kind == "garbage":
        bad.write_bytes(b"this is not a database\n" * 100)
    elif kind == "not-cmqprep":
        sqlite3.connect(bad).execute("CREATE TABLE t(x)").connection.commit()
    elif kind == "newer":
        make_backup(db_file(ctx), tmp_path, "manual", ctx.clock()).rename(bad)
        con = sqlite3.connect(bad)
        con.execute("UPDATE alembic_version SET version_num='9999'")
        con.commit()
        con.close()
    elif kind == "damaged":
        make_backup(db_file(ctx), tmp_path, "manual", ctx.clock()).rename(bad)
        with open(bad, "r+b") as f:  # overwrite the middle of the file
            f.seek(4096 * 3)
            f.write(os.urandom(4096 * 4))
    before = dump(db_file(ctx))
    capsys.readouterr()
    assert main(["backup", "restore", "-y", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cmqprep: ") and "Traceback" not in err
    assert {"garbage": "not a SQLite", "not-cmqprep": "not a cmqprep", "newer": "9999",
            "damaged": "", "missing": "no such file"}[kind] in err
    assert dump(db_file(ctx)) == before
    assert [p for p in ctx.data_dir.iterdir() if p.name.startswith(".restore")] == []


def test_restore_replaces_a_damaged_live_database(ctx, monkeypatch) -> None:
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(ctx.data_dir))
    study(ctx, 3)
    good = make_backup(db_file(ctx), ctx.data_dir / "backups", "manual", ctx.clock())
    ctx.engine.dispose()
    live = db_file(ctx)
    with open(live, "r+b") as f:
        f.seek(0)
        f.write(b"\x00" * 4096)  # the header is gone: SQLite cannot read the file at all
    assert main(["doctor"]) == 1
    assert main(["backup", "restore", "-y", good.name]) == 0
    assert count(live) == 3 and main(["doctor"]) == 0
    saved = [b for b in list_backups(ctx.data_dir / "backups") if b.label == "before-restore"]
    assert saved and saved[0].path.read_bytes()[:16] == b"\x00" * 16  # damaged copy kept

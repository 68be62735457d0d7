"""Engine factory, database opening (migrate on open, after a backup) and session helpers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

# Kept in a module without SQLAlchemy, so the launch path can check the schema with sqlite3.
from cmqprep.db.light import DB_FILENAME, HEAD, default_url  # noqa: F401  (re-exported)


class DatabaseError(Exception):
    """The database cannot be opened or used; the message says what to do."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(url: str) -> Engine:
    """An engine with the pragmas cmqprep relies on; no connection is made until used."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 10})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # A write that starts as a read can hit SQLITE_BUSY without waiting when another
        # process writes; BEGIN IMMEDIATE waits for the lock (busy_timeout) instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write")
                             else "BEGIN")

    return engine


# SQLite failures a user can act on, by a fragment of SQLite's message -> what to tell them.
_FRIENDLY = (
    ("database or disk is full", "the disk is full, so nothing from this action was saved. "
                                 "Free some disk space and try again"),
    ("readonly database", "the database is read-only here, so nothing from this action was "
                          "saved. Check the permissions of the data directory"),
    ("database is locked", "another cmqprep kept the database busy for too long; nothing from "
                           "this action was saved. Try again"),
    ("disk i/o error", "the disk reported an error while saving; nothing from this action was "
                       "saved. Run 'cmqprep doctor'"),
    ("malformed", "the database file is damaged. Run 'cmqprep doctor', then restore a backup "
                  "('cmqprep backup list')"),
    ("not a database", "the database file is damaged or is not a cmqprep database. Run "
                       "'cmqprep doctor', then restore a backup ('cmqprep backup list')"),
)


def friendly(exc: BaseException) -> DatabaseError | None:
    """A DatabaseError with advice for storage failures (full disk, read-only, damage); takes
    SQLAlchemy's wrapped errors and the driver's own (from raw cursors) alike."""
    text_ = str(getattr(exc, "orig", None) or exc).lower()
    for fragment, advice in _FRIENDLY:
        if fragment in text_:
            return DatabaseError(advice)
    return None


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        mapped = friendly(exc)
        if mapped is None:
            raise
        raise mapped from exc


@contextlib.contextmanager
def translated_errors(engine: Engine) -> Iterator[None]:
    """For code on raw DBAPI cursors: storage failures become DatabaseError with advice."""
    raw_error = getattr(engine.dialect.loaded_dbapi, "Error", DBAPIError)
    try:
        yield
    except (DBAPIError, raw_error) as exc:
        mapped = friendly(exc)
        if mapped is None:
            raise
        raise mapped from exc


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that writes: committed on success, rolled back on any exception."""
    with _translated():
        with Session(engine.execution_options(write=True), expire_on_commit=False) as session:
            with session.begin():
                yield session


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with _translated():
        with Session(engine, expire_on_commit=False) as session:
            with session.begin():
                yield session


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no such table yet, in any backend's words
            return None


def backup_sqlite(src: Path, backups: Path, label: str, now: datetime) -> Path:
    """Copy a live SQLite database consistently (sqlite3 backup API) into `backups`."""
    # The backup policy (names, rotation, restore) lives in services/backups; imported here
    # lazily because opening the database is where automatic backups must happen.
    from cmqprep.services.backups import BackupError, make_backup

    try:
        return make_backup(src, backups, label, now)
    except BackupError as exc:
        raise DatabaseError(str(exc)) from None


def migrate(engine: Engine, backups: Path | None, now: datetime) -> Path | None:
    """Bring the schema to HEAD; back up an existing SQLite file first. Returns the backup."""
    rev = current_revision(engine)
    if rev == HEAD:
        return None
    backup = None
    path = sqlite_path(str(engine.url))
    if rev is not None and path is not None and backups is not None and path.exists():
        backup = backup_sqlite(path, backups, f"before-migration-{rev}", now)
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    # BEGIN IMMEDIATE: two processes opening an old (or new) database at once queue up here;
    # the second then finds the schema at HEAD and Alembic does nothing.
    with engine.execution_options(write=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return backup


def open_database(url: str, data_dir: Path, now: datetime, daily: bool = True) -> Engine:
    """Create or open the database at `url`, migrated to HEAD, owner-only where it is a file.

    daily=False leaves the day's automatic backup to the caller (the launch path makes it in
    the background after the home screen is up)."""
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        except OSError as exc:
            raise DatabaseError(f"cannot create the database at {path}: {exc.strerror}. "
                                f"Choose another place with --data-dir or --db.") from None
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            raise DatabaseError(f"the database {path} or its folder is read-only; cmqprep needs "
                                f"to write there (choose another place with --data-dir)")
        if daily:
            from cmqprep.services.backups import daily_backup

            daily_backup(path, data_dir / "backups", now)  # at most once a UTC day; never fatal
    engine = make_engine(url)
    try:
        migrate(engine, data_dir / "backups", now)
    except DBAPIError as exc:
        engine.dispose()
        mapped = friendly(exc)
        raise DatabaseError(f"cannot open the database {url}: "
                            f"{mapped or exc.orig}") from None
    except DatabaseError:
        engine.dispose()
        raise
    return engine

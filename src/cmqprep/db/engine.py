"""Engine factory, database opening (migrate on open, after a backup) and session helpers."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

HEAD = "0002"
"""The newest migration; a test checks it matches the Alembic scripts."""

DB_FILENAME = "cmqprep.sqlite"


class DatabaseError(Exception):
    """The database cannot be opened or used; the message says what to do."""


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DB_FILENAME}"


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


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that writes: committed on success, rolled back on any exception."""
    with Session(engine.execution_options(write=True), expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
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
    backups.mkdir(parents=True, exist_ok=True)
    dest = backups / f"cmqprep-{now.strftime('%Y%m%dT%H%M%SZ')}-{label}.sqlite"
    source = sqlite3.connect(str(src))
    try:
        target = sqlite3.connect(str(dest))
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    os.chmod(dest, 0o600)
    return dest


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
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return backup


def open_database(url: str, data_dir: Path, now: datetime) -> Engine:
    """Create or open the database at `url`, migrated to HEAD, owner-only where it is a file."""
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        except OSError as exc:
            raise DatabaseError(f"cannot create the database at {path}: {exc.strerror}. "
                                f"Choose another place with --data-dir or --db.") from None
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            raise DatabaseError(f"the database {path} or its folder is read-only; cmqprep needs "
                                f"to write there (choose another place with --data-dir)")
    engine = make_engine(url)
    try:
        migrate(engine, data_dir / "backups", now)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open the database {url}: {exc.orig}") from None
    return engine

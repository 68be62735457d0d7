"""Restoring the database from a backup (or any cmqprep database file): check and migrate a
private copy first, save the live database, then swap the files; the live file is never
half-replaced."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cmqprep.services.backups import (
    _STAMP,
    BackupError,
    _copy,
    _remove,
    _unique,
    ensure_dir,
    make_backup,
    parse_name,
    sweep_partials,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class Candidate:
    """A database file checked and copied privately, ready to replace the live one."""

    source: Path
    copy: Path
    revision: str  # the schema revision it had (the copy is already migrated to HEAD)
    reviews: int
    profiles: int


def known_revisions() -> list[str]:
    versions = Path(__file__).resolve().parent.parent / "db" / "migrations" / "versions"
    return sorted(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*_*.py"))


def _scalar(con: sqlite3.Connection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _integrity(path: Path) -> list[str]:
    con = sqlite3.connect(str(path))
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check(20)")]
    finally:
        con.close()


def resolve(name_or_path: str, backups: Path) -> Path:
    """A backup's file name (as `backup list` shows it) or any path to a database file."""
    inside = backups / name_or_path
    if "/" not in name_or_path and parse_name(name_or_path) and inside.is_file():
        return inside
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise BackupError(f"no backup named {name_or_path!r} and no such file; "
                          f"see 'cmqprep backup list'")
    return path


def prepare_restore(source: Path, workdir: Path, now: datetime) -> Candidate:
    """Check `source` is an intact cmqprep database this version can use, copy it privately
    into `workdir` and migrate the copy to the current schema. The live database is untouched."""
    from cmqprep.db.engine import HEAD, make_engine, migrate

    try:
        with open(source, "rb") as f:
            magic = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror or exc}") from None
    if magic != SQLITE_MAGIC:
        raise BackupError(f"{source} is not a SQLite database")
    for left in sweep_partials(workdir, ".restore-*.sqlite"):
        _remove_db(left)
    copy = workdir / f".restore-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.{os.getpid()}.sqlite"
    try:
        _remove(copy)
        os.close(os.open(copy, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        _copy(source, copy)
        problems = _integrity(copy)
        if problems != ["ok"]:
            raise BackupError(f"{source} is damaged (integrity check: {'; '.join(problems[:3])}); "
                              f"choose another backup")
        con = sqlite3.connect(str(copy))
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"alembic_version", "reviews", "profiles"} <= tables:
                raise BackupError(f"{source} is not a cmqprep database")
            revision = str(_scalar(con, "SELECT version_num FROM alembic_version"))
            reviews = int(_scalar(con, "SELECT count(*) FROM reviews") or 0)
            profiles = int(_scalar(con, "SELECT count(*) FROM profiles") or 0)
        finally:
            con.close()
        known = known_revisions()
        if revision not in known:
            raise BackupError(f"{source} has schema revision {revision}, which this cmqprep does "
                              f"not know (newest: {HEAD}); upgrade cmqprep to restore it")
        if revision != HEAD:
            engine = make_engine(f"sqlite:///{copy}")
            try:
                migrate(engine, None, now)
            finally:
                engine.dispose()
    except sqlite3.DatabaseError as exc:
        _remove_db(copy)
        raise BackupError(f"{source} cannot be used: {exc}") from None
    except BaseException:
        _remove_db(copy)
        raise
    return Candidate(source, copy, revision, reviews, profiles)


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            path.with_name(path.name + suffix).unlink()


def discard(c: Candidate) -> None:
    _remove_db(c.copy)


def _raw_backup(live: Path, backups: Path, now: datetime) -> Path:
    """Byte copy of a database SQLite cannot read (and its WAL), so nothing is ever lost."""
    import shutil

    try:
        ensure_dir(backups)
        dest = _unique(backups, now.astimezone(timezone.utc).strftime(_STAMP), "before-restore")
        for suffix in ("", "-wal"):
            src = live.with_name(live.name + suffix)
            if src.exists():
                out = dest.with_name(dest.name + suffix)
                os.close(os.open(out, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                shutil.copyfile(src, out)
    except OSError as exc:
        raise BackupError(f"cannot save the current database before restoring: "
                          f"{exc.strerror or exc}; nothing was changed") from None
    return dest


def _replace_file(new: Path, live: Path) -> None:
    # A stale WAL next to the new file would be replayed into it: remove it first.
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            live.with_name(live.name + suffix).unlink()
    os.replace(new, live)
    os.chmod(live, 0o600)


def apply_restore(c: Candidate, live: Path, backups: Path, now: datetime) -> Path | None:
    """Back up the live database, then replace its content with the candidate.

    Normally through SQLite's backup API into the live file: that writes through the live
    database's own journal, so a crash leaves either the old or the new content, and other
    connections see the change atomically. A live file SQLite cannot read (the usual reason to
    restore) is saved byte for byte and replaced by renaming. Returns the saved copy.
    """
    from cmqprep.db.engine import HEAD

    saved = None
    try:
        live.parent.mkdir(parents=True, exist_ok=True)
        damaged = True
        if live.exists() and live.stat().st_size > 0:
            try:
                saved = make_backup(live, backups, "before-restore", now)
                damaged = False
            except BackupError:
                saved = _raw_backup(live, backups, now)
        if not damaged:
            try:
                source = sqlite3.connect(str(c.copy))
                target = sqlite3.connect(str(live), timeout=10)
                try:
                    source.backup(target)
                    target.commit()
                finally:
                    target.close()
                    source.close()
            except sqlite3.DatabaseError as exc:
                if "malformed" not in str(exc) and "not a database" not in str(exc):
                    raise
                damaged = True
        if damaged:
            _replace_file(c.copy, live)
        problems = _integrity(live)
        con = sqlite3.connect(str(live))
        try:
            revision = _scalar(con, "SELECT version_num FROM alembic_version")
        finally:
            con.close()
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"restoring into {live} failed: {exc}. The database before the "
                          f"restore is {saved or 'unchanged'}") from None
    finally:
        discard(c)
    if problems != ["ok"] or revision != HEAD:
        raise BackupError(f"the restored database does not check out ({'; '.join(problems[:3])}, "
                          f"schema {revision}); the previous one is saved as {saved}")
    return saved

"""Backups of the SQLite database: consistent copies, daily rotation and listing
(restoring one is services/restore.py).

A backup is `cmqprep-YYYYMMDDTHHMMSSZ-LABEL.sqlite` in the backups folder (mode 0700, files
0600). Labels: `daily` (made at most once per UTC day when cmqprep opens the database),
`before-migration-REV`, `before-restore` and `manual`. Only `daily` backups are rotated:

* the newest daily backup of each of the 7 most recent UTC dates that have one is kept;
* the newest daily backup of each of the 4 most recent ISO weeks (Monday to Sunday, UTC) that
  have one is kept;
* every other daily backup is deleted.

The other labels are made on an explicit event (an upgrade, a restore, the user asking) and are
never deleted automatically.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

DAILY = "daily"
KEEP_DAILY = 7
KEEP_WEEKLY = 4
_NAME = re.compile(r"^cmqprep-(\d{8}T\d{6}Z)-([a-z0-9][a-z0-9-]*)\.sqlite$")
_STAMP = "%Y%m%dT%H%M%SZ"
log = logging.getLogger("cmqprep")


class BackupError(Exception):
    """A backup could not be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: datetime  # UTC, from the file name
    label: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def parse_name(name: str) -> tuple[datetime, str] | None:
    """(instant, label) of a backup file name, or None for files that are not backups."""
    m = _NAME.match(name)
    if m is None:
        return None
    try:
        taken = datetime.strptime(m.group(1), _STAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return taken, m.group(2)


def ensure_dir(backups: Path) -> None:
    """Create the backups folder readable by its owner only (and tighten an existing one)."""
    backups.mkdir(parents=True, exist_ok=True, mode=0o700)
    if backups.stat().st_mode & 0o077:
        os.chmod(backups, 0o700)


def _copy(src: Path, dest: Path) -> None:
    """Copy a live database with SQLite's backup API: a consistent snapshot even mid-write."""
    source = sqlite3.connect(str(src))
    try:
        target = sqlite3.connect(str(dest))
        try:
            source.backup(target)
            target.commit()
        finally:
            target.close()
    finally:
        source.close()


def _unique(backups: Path, stamp: str, label: str) -> Path:
    dest = backups / f"cmqprep-{stamp}-{label}.sqlite"
    n = 2
    while dest.exists():
        dest = backups / f"cmqprep-{stamp}-{label}-{n}.sqlite"
        n += 1
    return dest


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_backup(src: Path, backups: Path, label: str, now: datetime) -> Path:
    """Copy `src` into `backups` under a new name; the file appears complete or not at all."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", label):
        raise ValueError(f"bad backup label {label!r}")
    try:
        ensure_dir(backups)
        sweep_partials(backups)
        dest = _unique(backups, now.astimezone(timezone.utc).strftime(_STAMP), label)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise BackupError(f"cannot write to the backups folder {backups}: "
                          f"{exc.strerror or exc}") from None
    try:
        _copy(src, tmp)
        _fsync(tmp)
        os.replace(tmp, dest)  # a reader never sees a half-written backup under its real name
    except (OSError, sqlite3.Error) as exc:
        _remove(tmp)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BackupError(f"could not back up {src} to {backups}: {reason}. Nothing was "
                          f"changed; free some disk space or check the folder's permissions"
                          ) from None
    return dest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def sweep_partials(folder: Path, pattern: str = ".cmqprep-*.partial") -> list[Path]:
    """Delete what a killed backup or restore left behind: temporary files named with the id
    of a process that no longer runs, or older than a day (another machine's, say)."""
    import time

    removed = []
    for p in folder.glob(pattern):
        pid = p.name.rsplit(".", 2)[-2]
        try:
            stale = time.time() - p.stat().st_mtime > 86_400
        except FileNotFoundError:
            continue
        if stale or not (pid.isdigit() and _pid_alive(int(pid))):
            _remove(p)
            removed.append(p)
    return removed


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-journal")):
        with contextlib.suppress(OSError):
            p.unlink()


def list_backups(backups: Path) -> list[Backup]:
    """Backups in the folder, oldest first (files with other names are ignored)."""
    out = []
    try:
        entries = list(os.scandir(backups))
    except FileNotFoundError:
        return []
    for entry in entries:
        parsed = parse_name(entry.name)
        if parsed is None or not entry.is_file():
            continue
        out.append(Backup(Path(entry.path), parsed[0], parsed[1], entry.stat().st_size))
    return sorted(out, key=lambda b: (b.taken, b.name))


def to_keep(daily: Iterable[Backup]) -> set[Path]:
    """The daily backups the rotation keeps (see the module docstring)."""
    newest_per_day: dict[date, Backup] = {}
    newest_per_week: dict[tuple[int, int], Backup] = {}
    for b in sorted(daily, key=lambda b: (b.taken, b.name)):
        newest_per_day[b.taken.date()] = b  # later ones replace earlier ones
        newest_per_week[tuple(b.taken.isocalendar())[:2]] = b  # type: ignore[index]
    keep = {newest_per_day[d].path for d in sorted(newest_per_day)[-KEEP_DAILY:]}
    keep |= {newest_per_week[w].path for w in sorted(newest_per_week)[-KEEP_WEEKLY:]}
    return keep


def rotate(backups: Path) -> list[Path]:
    """Delete the daily backups the rotation no longer keeps; returns what was deleted."""
    daily = [b for b in list_backups(backups) if b.label == DAILY]
    keep = to_keep(daily)
    removed = []
    for b in daily:
        if b.path not in keep:
            with contextlib.suppress(FileNotFoundError):
                b.path.unlink()
            removed.append(b.path)
    return removed


def daily_due(backups: Path, now: datetime) -> bool:
    """True when no daily backup was taken on `now`'s UTC date (one directory listing)."""
    prefix = f"cmqprep-{now.astimezone(timezone.utc):%Y%m%d}T"
    try:
        names = os.listdir(backups)
    except FileNotFoundError:
        return True
    return not any(n.startswith(prefix) and n.endswith(f"-{DAILY}.sqlite")
                   and parse_name(n) is not None for n in names)


def daily_backup(src: Path, backups: Path, now: datetime,
                 warn: Callable[[str], None] | None = None) -> Path | None:
    """Take today's daily backup and rotate, unless one exists already or there is nothing
    to back up. A failure does not stop the user studying: it is reported through `warn`."""
    try:
        if src.stat().st_size == 0 or not daily_due(backups, now):
            return None
    except OSError:
        return None
    try:
        made = make_backup(src, backups, DAILY, now)
    except BackupError as exc:
        (warn or log.warning)(f"cmqprep: warning: today's automatic backup was not made: {exc}")
        return None
    rotate(backups)
    return made

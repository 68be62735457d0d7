"""`cmqprep backup list|create|restore`: copies of the SQLite database and getting one back."""

from __future__ import annotations

import argparse
from pathlib import Path

from cmqprep.commands.common import EXIT_OK, UserError, confirm


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="list, make or restore backups of the database",
                       description="Backups of the SQLite database. One is made automatically "
                                   "each day cmqprep is opened (the last 7 daily and 4 weekly "
                                   "are kept) and before every upgrade.")
    bsub = b.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    bsub.add_parser("list", help="list backups, oldest first").set_defaults(handler=cmd_list)
    bsub.add_parser("create", help="make a backup now").set_defaults(handler=cmd_create)
    r = bsub.add_parser("restore", help="replace the database with a backup (the current one "
                                        "is backed up first)")
    r.add_argument("backup", metavar="NAME|FILE", help="a name from 'backup list', or a file")
    r.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    r.set_defaults(handler=cmd_restore)


def _locations(args: argparse.Namespace) -> tuple[Path, Path]:
    """(live database file, backups folder); backups exist only for the SQLite file."""
    from cmqprep.db.engine import sqlite_path
    from cmqprep.paths import data_dir, database_url

    directory = data_dir(args.data_dir)
    path = sqlite_path(database_url(args.db, directory))
    if path is None:
        raise UserError("backups cover the SQLite database only; back up a database server "
                        "with its own tools")
    return path, directory / "backups"


def _now():  # type: ignore[no-untyped-def]
    from cmqprep.config import system_clock

    return system_clock()


def cmd_list(args: argparse.Namespace) -> int:
    from cmqprep.services.backups import list_backups

    _, backups = _locations(args)
    found = list_backups(backups)
    if not found:
        print(f"No backups in {backups}.")
        return EXIT_OK
    for b in found:
        print(f"{b.name:<56} {b.taken:%Y-%m-%d %H:%M} UTC {b.size / 1e6:>9.2f} MB  {b.label}")
    print(f"({len(found)} in {backups})")
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    from cmqprep.services.backups import BackupError, make_backup

    live, backups = _locations(args)
    if not live.is_file() or live.stat().st_size == 0:
        raise UserError(f"there is no database at {live} yet; nothing to back up")
    try:
        made = make_backup(live, backups, "manual", _now())
    except BackupError as exc:
        raise UserError(str(exc)) from None
    print(f"Backed up to {made}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from cmqprep.services.backups import BackupError
    from cmqprep.services.restore import apply_restore, discard, prepare_restore, resolve

    live, backups = _locations(args)
    now = _now()
    try:
        source = resolve(args.backup, backups)
        live.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        candidate = prepare_restore(source, live.parent, now)
    except BackupError as exc:
        raise UserError(str(exc)) from None
    try:
        question = (f"Replace the database {live} with {source.name} ({candidate.reviews} "
                    f"reviews, {candidate.profiles} profile(s))? The current database is "
                    f"backed up first.")
        if not (args.yes or confirm(question)):
            raise UserError("not restored (pass --yes to restore without being asked)")
        saved = apply_restore(candidate, live, backups, now)
    except BackupError as exc:
        raise UserError(str(exc)) from None
    finally:
        discard(candidate)
    if candidate.revision != _head():
        print(f"Upgraded the restored database from schema {candidate.revision}.")
    if saved is not None:
        print(f"The database as it was is saved as {saved.name}.")
    print(f"Restored {source} ({candidate.reviews} reviews). Close any other cmqprep window "
          f"that was open during the restore.")
    return EXIT_OK


def _head() -> str:
    from cmqprep.db.engine import HEAD

    return HEAD

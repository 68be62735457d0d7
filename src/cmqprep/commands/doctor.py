"""`cmqprep doctor`: check the database and say what to do; `--repair` rebuilds schedules."""

from __future__ import annotations

import argparse

from cmqprep.commands.common import EXIT_INVALID, EXIT_OK, UserError

MARKS = {"ok": "ok", "note": "note", "warning": "WARNING", "error": "ERROR"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("doctor", help="check the database for damage and inconsistencies",
                       description="Check integrity, orphaned rows and that every schedule "
                                   "matches the review log; say what to do about problems.")
    d.add_argument("--repair", action="store_true",
                   help="delete orphaned rows and rebuild schedules from the review log "
                        "(one transaction; the log itself is never changed)")
    d.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from cmqprep.config import system_clock
    from cmqprep.db.engine import DatabaseError, make_engine, sqlite_path
    from cmqprep.paths import data_dir, database_url
    from cmqprep.services.doctor import ERROR, diagnose, file_check, repair

    directory = data_dir(args.data_dir)
    url = database_url(args.db, directory)
    path = sqlite_path(url)
    now = system_clock()
    if path is not None:
        first = file_check(path)
        if first.status == ERROR:  # do not even open it through the engine (it writes pragmas)
            return _print_report(path, [first], [first.advice])
        if not path.exists():
            print(f"{path}: no database yet; nothing to check.")
            return EXIT_OK
    engine = make_engine(url)
    try:
        report = diagnose(engine, path, directory / "backups" if path else None, now)
        if args.repair and not any(c.status == ERROR for c in report.checks):
            done = repair(engine)
            print(f"Repaired: deleted {done.orphans_deleted} orphaned row(s), rebuilt "
                  f"{done.schedules_fixed} schedule row(s) from the review log.")
            report = diagnose(engine, path, directory / "backups" if path else None, now)
    except DatabaseError as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    return _print_report(report.target, report.checks, report.advice())


def _print_report(target: object, checks: list, advice: list[str]) -> int:  # type: ignore[type-arg]
    print(f"Checking {target}")
    bad = False
    for c in checks:
        print(f"  {MARKS[c.status]:<8} {c.name}")
        for line in c.details:
            print(f"           {line}")
        bad = bad or c.status in ("warning", "error")
    if bad:
        print("What to do:")
        for a in advice:
            print(f"  - {a}")
    else:
        print("No problems found.")
    return EXIT_INVALID if bad else EXIT_OK

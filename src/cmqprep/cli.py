"""Command line: argparse subcommands; heavy imports are deferred into each command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cmqprep import __version__
from cmqprep.commands.common import EXIT_INVALID, EXIT_OK, UserError
from cmqprep.commands.common import context as _context

# Command groups that live in their own module under cmqprep.commands. Each module has
# add_parser(sub), which registers its parser(s) and sets `handler` via set_defaults. Keep the
# modules light at import time: argparse only, everything heavy inside the handlers.
GROUPS = ("pack", "quiz", "stats", "backup", "doctor", "progress", "group")


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The command line parser; commands=False: the global options only (the launch path)."""
    p = argparse.ArgumentParser(
        prog="cmqprep",
        description="Study for the ASQ CMQ/OE exam in the terminal. Run with no command to open "
                    "the app at its home screen.")
    p.add_argument("--version", action="version", version=f"cmqprep {__version__}")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (env CMQPREP_DB; "
                   "default: a SQLite file in the data directory)")
    p.add_argument("--data-dir", metavar="DIR", help="where the default database and backups "
                   "live (env CMQPREP_DATA_DIR)")
    p.add_argument("--profile", metavar="NAME", default="default",
                   help="whose progress to use (default: 'default', created on first run)")
    if not commands:
        p.set_defaults(command=None)
        return p
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    study = sub.add_parser("study", help="open straight into flashcard study",
                           description="Study due and new flashcards.")
    study.add_argument("--area", metavar="CODE", help="only this BoK area, e.g. III")

    for name in GROUPS:
        importlib.import_module(f"cmqprep.commands.{name}").add_parser(sub)


    st = sub.add_parser("settings", help="show or change study settings (limits, day start, ...)",
                        description="Study settings of the current profile.")
    stsub = st.add_subparsers(dest="settings_command", metavar="ACTION")
    stsub.add_parser("show", help="print the settings (the default action)")
    sset = stsub.add_parser("set", help="change one setting, e.g. 'settings set new_per_day 30'")
    sset.add_argument("key", metavar="KEY")
    sset.add_argument("value", metavar="VALUE")

    prof = sub.add_parser("profile", help="list or create learner profiles")
    prsub = prof.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    prsub.add_parser("list", help="list profiles")
    c = prsub.add_parser("create", help="create a profile")
    c.add_argument("name", metavar="NAME")
    return p


# Global options that take a value; a bare `cmqprep` with only these opens the home screen.
_GLOBAL_VALUED = ("--db", "--data-dir", "--profile")


def _opens_home(argv: Sequence[str]) -> bool:
    """True when argv names no command (so the ~20 command parsers need not be built at
    launch). Anything unusual (help, version, abbreviations, a command) says False."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_VALUED:
            if next(words, None) is None:
                return False  # let the full parser report the missing value
        elif not (word.startswith(_GLOBAL_VALUED) and "=" in word
                  and word.split("=", 1)[0] in _GLOBAL_VALUED):
            return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(commands=not _opens_home(argv))
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"cmqprep: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("cmqprep: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "pack" and args.pack_command == "validate":
        return args.handler(args)  # needs no database
    if args.command is None:
        ctx = _fast_context(args)
        if ctx is not None:
            return _run_fast(ctx)
    from cmqprep.db.engine import DatabaseError
    from cmqprep.packs.errors import PackError
    from cmqprep.services.profiles import ProfileError

    try:
        if args.command is None or args.command == "study":
            return cmd_tui(args)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return handler(args)
        if args.command == "profile":
            return cmd_profile(args)
        if args.command == "settings":
            return cmd_settings(args)
    except (DatabaseError, ProfileError) as exc:
        raise UserError(str(exc)) from None
    except PackError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    raise AssertionError(args.command)


def _fast_context(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The launch fast path's context (services/launch.py), or None for the full path. Only
    light modules here: SQLAlchemy is imported by a background thread after the first paint."""
    import os

    from cmqprep import config
    from cmqprep.db.light import default_url
    from cmqprep.paths import data_dir
    from cmqprep.services.launch import fast_context

    directory = data_dir(args.data_dir)
    # As paths.database_url, which imports db.engine (and with it SQLAlchemy).
    url = args.db or os.environ.get("CMQPREP_DB") or default_url(directory)
    return fast_context(directory, url, args.profile, config.system_clock)


def _run_fast(ctx) -> int:  # type: ignore[no-untyped-def]
    from cmqprep.ui.app import make_app

    make_app(ctx).run()
    failure = ctx.engine_failure()
    if failure is not None:  # the background open failed: say why, as the full path would
        from cmqprep.db.engine import DatabaseError

        if isinstance(failure, DatabaseError):
            raise UserError(str(failure)) from None
        raise failure
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if args.command == "study" and args.area:
        from cmqprep.services.stats import areas

        codes = [a[0] for a in areas(ctx.engine)]
        if args.area not in codes:
            raise UserError(f"unknown area {args.area!r}; areas are {', '.join(codes)}")
    from cmqprep.ui.app import make_app

    make_app(ctx, start=("study", args.area) if args.command == "study" else None).run()
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    import dataclasses

    from cmqprep.services.profiles import save_settings

    ctx = _context(args)
    if args.settings_command == "set":
        fields = {f.name: f for f in dataclasses.fields(ctx.settings)}
        if args.key not in fields:
            raise UserError(f"unknown setting {args.key!r}; settings are {', '.join(fields)}")
        from cmqprep.config import parse_setting

        current = getattr(ctx.settings, args.key)
        try:
            value = parse_setting(current, args.value)
        except ValueError:
            kind = "yes/no" if isinstance(current, bool) else f"a {type(current).__name__}"
            raise UserError(f"{args.key} needs {kind} value, "
                            f"not {args.value!r}") from None
        updated = dataclasses.replace(ctx.settings, **{args.key: value})
        problems = updated.validate()
        if problems:
            raise UserError("; ".join(problems))
        save_settings(ctx.engine, ctx.profile_id, updated)
        ctx.settings = updated
    for key, value in dataclasses.asdict(ctx.settings).items():
        print(f"{key:<18} {value}")
    return EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services.profiles import DEFAULT_PROFILE, create_profile, list_profiles

    current = args.profile
    args.profile = DEFAULT_PROFILE  # managing profiles does not need the chosen one to exist
    ctx = _context(args)
    ctx.profile_name = current
    if args.profile_command == "list":
        for _pid, name in list_profiles(ctx.engine):
            print(f"{'*' if name == ctx.profile_name else ' '} {name}")
        return EXIT_OK
    create_profile(ctx.engine, args.name, to_ms(ctx.clock()))
    print(f"Created profile {args.name!r}. Use it with: cmqprep --profile {args.name!r}")
    return EXIT_OK

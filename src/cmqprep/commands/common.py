"""What every command module shares: exit codes, the user-error type, opening the context."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UserError(Exception):
    """A mistake in what the user asked for or gave us: printed without a traceback, exit 1."""


def context(args: argparse.Namespace, create_profile: bool = False):  # type: ignore[no-untyped-def]
    from cmqprep.config import system_clock
    from cmqprep.paths import data_dir, database_url
    from cmqprep.services.context import open_context

    directory = data_dir(args.data_dir)
    return open_context(directory, database_url(args.db, directory), args.profile, system_clock,
                        create_profile=create_profile)


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False

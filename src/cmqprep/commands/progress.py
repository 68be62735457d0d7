"""`cmqprep progress ...`: export this profile's progress, or merge an export into it."""

from __future__ import annotations

import argparse
import unicodedata
from pathlib import Path

from cmqprep.commands.common import EXIT_OK, UserError, context


def add_parser(sub: argparse._SubParsersAction) -> None:
    prog = sub.add_parser("progress", help="export progress to a file, or merge one in",
                          description="Progress files carry a profile's review log and a summary "
                                      "(see docs/progress-format.md).")
    psub = prog.add_subparsers(dest="progress_command", metavar="ACTION", required=True)
    e = psub.add_parser("export", help="write this profile's progress to a JSON file (mode 0600)")
    e.add_argument("-o", "--output", required=True, metavar="FILE")
    e.add_argument("--summary-only", action="store_true",
                   help="leave out the review log (enough for a study group)")
    e.add_argument("--force", action="store_true", help="replace FILE if it exists")
    i = psub.add_parser("import", help="merge an export (e.g. from your other computer) into "
                                       "this profile")
    i.add_argument("file", metavar="FILE")
    e.set_defaults(handler=cmd_export)
    i.set_defaults(handler=cmd_import)


def shown(text: str) -> str:
    """Foreign text (names from export files) made safe for a terminal: control and format
    characters (escape sequences, bidi overrides) are printed as visible \\x/\\u escapes."""
    return "".join(c if unicodedata.category(c)[0] != "C" else ascii(c)[1:-1] for c in text)


def cmd_export(args: argparse.Namespace) -> int:
    from cmqprep.domain.progress import ProgressError
    from cmqprep.services.progress import export_progress

    ctx = context(args)
    try:
        result = export_progress(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock(),
                                 Path(args.output), args.summary_only, args.force)
    except ProgressError as exc:
        raise UserError(str(exc)) from None
    what = ("the summary (no review log)" if result.kind == "summary"
            else f"{result.reviews} reviews and the summary")
    print(f"Exported {what} of profile {ctx.profile_name!r} to {result.path} "
          f"({result.bytes} bytes, readable by you only)")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from cmqprep.domain.progress import ProgressError, iso_ms
    from cmqprep.services.progress import import_progress

    ctx = context(args)
    try:
        r = import_progress(ctx.engine, ctx.profile_id, ctx.settings, Path(args.file),
                            ctx.clock())
    except ProgressError as exc:
        raise UserError(str(exc)) from None
    print(f"{r.source}: progress of {shown(r.name)!r} (member {r.member_id[:8]}, exported "
          f"{iso_ms(r.exported_ms)[:16].replace('T', ' ')} UTC) into profile "
          f"{r.profile_name!r}")
    if not r.same_member and r.name != r.profile_name:
        print(f"  note: the file is from a profile named {shown(r.name)!r}; its reviews now "
              f"count as {r.profile_name!r}'s too")
    print(f"  {r.in_file} reviews in the file: {r.added} added, {r.present} already here")
    if r.not_installed_reviews:
        packs = f" (packs not installed: {', '.join(map(shown, r.packs_missing))})" \
            if r.packs_missing else ""
        print(f"  {r.not_installed_reviews} of them are of {r.not_installed_items} items not "
              f"installed here{packs}: kept; they apply when the pack is installed")
    if r.added:
        print(f"  schedule rebuilt for {r.rebuilt} items")
    return EXIT_OK

"""`cmqprep pack ...`: validate, install, list and show question packs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cmqprep.commands.common import EXIT_INVALID, EXIT_OK, UserError, confirm, context


def add_parser(sub: argparse._SubParsersAction) -> None:
    pack = sub.add_parser("pack", help="validate, install and list question packs",
                          description="Work with question packs.")
    psub = pack.add_subparsers(dest="pack_command", metavar="ACTION", required=True)
    v = psub.add_parser("validate", help="check packs and report every problem with its location")
    v.add_argument("paths", nargs="+", metavar="PATH")
    i = psub.add_parser("install", help="install or update a pack (one transaction)")
    i.add_argument("path", metavar="PATH")
    i.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before reinstalling an older version")
    show = psub.add_parser("show", help="counts per area and topic, and coverage by cognitive "
                                        "level, of an installed pack or a pack folder")
    show.add_argument("pack", metavar="PACK_ID|PATH")
    ls = psub.add_parser("list", help="list installed packs")
    ls.add_argument("--json", action="store_true", help="print JSON")

    v.set_defaults(handler=lambda a: cmd_pack_validate(a.paths))
    i.set_defaults(handler=cmd_pack_install)
    show.set_defaults(handler=cmd_pack_show)
    ls.set_defaults(handler=cmd_pack_list)


def cmd_pack_validate(paths: list[str]) -> int:
    from cmqprep.packs.errors import PackError
    from cmqprep.packs.native import load_pack

    failed = False
    for path in paths:
        try:
            pack = load_pack(Path(path))
        except PackError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        q = sum(1 for i in pack.items if i.kind == "question")
        print(f"{path}: ok: {pack.manifest.id} {pack.manifest.version}, {q} questions, "
              f"{len(pack.items) - q} term cards")
    return EXIT_INVALID if failed else EXIT_OK


def cmd_pack_install(args: argparse.Namespace) -> int:
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.packs.native import load_pack
    from cmqprep.services.packs import OlderVersionError, install_pack

    pack = load_pack(Path(args.path))  # validate before touching the database
    ctx = context(args)
    now_ms = to_ms(ctx.clock())
    try:
        summary = install_pack(ctx.engine, pack, now_ms)
    except OlderVersionError as exc:
        if not (args.yes or confirm(f"{exc.key} {exc.installed} is installed; reinstall the "
                                     f"older version {exc.offered}?")):
            raise UserError(f"not installed: {exc}. Pass --yes to reinstall the older "
                            f"version anyway") from None
        summary = install_pack(ctx.engine, pack, now_ms, allow_older=True)
    print("\n".join(summary.lines()))
    return EXIT_OK


def cmd_pack_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from cmqprep.services.packs import list_packs

    ctx = context(args)
    packs = list_packs(ctx.engine)
    if args.json:
        print(json.dumps([asdict(p) for p in packs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not packs:
        print("No packs installed.")
    for p in packs:
        print(f"{p.key:<16} {p.version:<12} {p.questions:>5} questions {p.terms:>5} terms"
              f"{f' ({p.retired} retired)' if p.retired else ''}  {p.title}")
    return EXIT_OK


def cmd_pack_show(args: argparse.Namespace) -> int:
    from cmqprep.domain.coverage import ItemFacts, coverage_lines

    path = Path(args.pack)
    if path.exists():
        from cmqprep.packs.native import load_pack

        pack = load_pack(path)
        topics = pack.blueprint.topic_codes()
        facts = [ItemFacts(topics[i.topic], i.topic, i.kind, getattr(i, "level", ""))
                 for i in pack.items]
        head = f"{pack.manifest.id} {pack.manifest.version}: {pack.manifest.title} (from {path})"
        blueprint = pack.blueprint
    else:
        from cmqprep.services.packs import pack_coverage

        found = pack_coverage(context(args).engine, args.pack)
        if found is None:
            raise UserError(f"no installed pack {args.pack!r} and no such folder; see "
                            f"'cmqprep pack list'")
        row, blueprint, facts = found
        head = f"{row.key} {row.version}: {row.title}"
    print(head)
    print(f"{blueprint.name}: {blueprint.scored} scored + {blueprint.unscored} unscored questions, "
          f"{blueprint.minutes} minutes")
    print("\n".join(coverage_lines(blueprint, facts)))
    return EXIT_OK

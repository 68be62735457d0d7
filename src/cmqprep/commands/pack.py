"""`cmqprep pack ...`: author, validate, install, export, list, show, remove and analyse packs."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from cmqprep.commands.common import EXIT_INVALID, EXIT_OK, UserError, confirm, context

FORMATS = ("native", "gift", "aiken", "csv")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Foreign text made safe for a terminal: control characters shown as escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def add_parser(sub: argparse._SubParsersAction) -> None:
    pack = sub.add_parser("pack", help="author, validate, install and manage question packs",
                          description="Work with question packs.")
    psub = pack.add_subparsers(dest="pack_command", metavar="ACTION", required=True)
    fmt_help = "the file's format (default: detected from the path and contents)"
    bp_help = ("for GIFT, Aiken and CSV files: the native pack folder or pack.toml whose "
               "blueprint the items' topics refer to (default: the bundled CMQ/OE blueprint)")
    topic_help = "topic code for items the file gives none (Aiken has no topics)"
    level_help = "cognitive level for questions the file gives none"

    n = psub.add_parser("new", help="start a new native pack with a blueprint and example items")
    n.add_argument("dir", metavar="DIR")
    n.add_argument("--id", required=True, help="the pack's stable id, e.g. acme-cmq")
    n.add_argument("--title", required=True, help="the pack's title")
    n.add_argument("--blueprint", metavar="FILE", help="a pack.toml (or TOML file) whose "
                   "[blueprint] table to copy (default: the bundled CMQ/OE blueprint)")
    n.add_argument("--license", default="CC-BY-4.0", help="license (default: CC-BY-4.0)")

    v = psub.add_parser("validate", help="check packs: errors with their location, plus "
                                         "item-writing warnings")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.add_argument("--strict", action="store_true", help="treat warnings as errors (exit 1)")
    v.add_argument("--format", choices=FORMATS, help=fmt_help)
    v.add_argument("--blueprint", metavar="PACK", help=bp_help)
    v.add_argument("--topic", metavar="CODE", help=topic_help)
    v.add_argument("--level", help=level_help)

    i = psub.add_parser("install", help="install or update a pack (one transaction)")
    i.add_argument("path", metavar="PATH|FILE")
    i.add_argument("--format", choices=FORMATS, help=fmt_help)
    i.add_argument("--blueprint", metavar="PACK", help=bp_help)
    i.add_argument("--topic", metavar="CODE", help=topic_help)
    i.add_argument("--level", help=level_help)
    i.add_argument("--id", help="pack id (for files that carry none; overrides the file's)")
    i.add_argument("--version", help="pack version (for files that carry none)")
    i.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before reinstalling an older version")

    e = psub.add_parser("export", help="write an installed pack as native, GIFT, Aiken or CSV")
    e.add_argument("pack", metavar="PACK_ID")
    e.add_argument("--format", choices=FORMATS, required=True)
    e.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="file to write (a folder for native)")
    e.add_argument("--force", action="store_true", help="overwrite an existing file")

    ls = psub.add_parser("list", help="list installed packs")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.add_argument("--all", action="store_true", help="include removed packs")

    show = psub.add_parser("show", help="counts per area and topic, and coverage by cognitive "
                                        "level, of an installed pack or a pack folder")
    show.add_argument("pack", metavar="PACK_ID|PATH")

    r = psub.add_parser("remove", help="stop studying a pack (progress kept unless --purge)")
    r.add_argument("pack", metavar="PACK_ID")
    r.add_argument("--purge", action="store_true", help="also delete every review, schedule "
                   "and quiz/exam answer of its items")
    r.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    st = psub.add_parser("stats", help="item analysis: answers, share correct and option picks")
    st.add_argument("pack", metavar="PACK_ID")
    st.add_argument("--json", action="store_true", help="print JSON (see docs/authoring.md)")

    n.set_defaults(handler=cmd_pack_new)
    v.set_defaults(handler=cmd_pack_validate)
    i.set_defaults(handler=cmd_pack_install)
    e.set_defaults(handler=cmd_pack_export)
    ls.set_defaults(handler=cmd_pack_list)
    show.set_defaults(handler=cmd_pack_show)
    r.set_defaults(handler=cmd_pack_remove)
    st.set_defaults(handler=cmd_pack_stats)


# ---- reading packs of any format ------------------------------------------------------------
def load(path: Path, fmt: str | None = None, blueprint: str | None = None,
         **overrides: str | None):  # type: ignore[no-untyped-def]
    """(pack, warnings) from any supported format; raises PackError with located problems."""
    from cmqprep.packs.formats import load_any

    given = {k: v for k, v in overrides.items() if v}
    pack, warnings = load_any(path, fmt, blueprint_from=blueprint, **given)
    return pack, list(warnings)


def _locations(pack, path: Path) -> tuple[str, dict[str, tuple[str, int]]]:  # type: ignore[no-untyped-def]
    """Where findings point: the pack-level file, and item/blueprint code -> (file, line)."""
    from cmqprep.packs.native import MANIFEST

    found: dict[str, tuple[str, int]] = {}
    known = getattr(pack, "locations", None)  # a reader may record them itself
    if isinstance(known, dict):
        found.update(known)
    if path.is_dir() or path.name == MANIFEST:
        root = path if path.is_dir() else path.parent
        manifest = root / MANIFEST
        _scan(manifest, re.compile(r"""\bcode\s*=\s*["']([^"']+)["']"""), found)
        header = re.compile(r"^\s*\[\[\s*(question|term)\s*\]\]")
        ident = re.compile(r"""^\s*id\s*=\s*["']([^"']+)["']""")
        for f in sorted(p for p in root.glob("*.toml") if p.name != MANIFEST):
            start = None
            for n, line in enumerate(_lines(f), 1):
                if header.match(line):
                    start = n
                elif (m := ident.match(line)) and start is not None:
                    found.setdefault(m.group(1), (str(f), start))
        return str(manifest), found
    ids = {i.id for i in pack.items}
    token = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
    lines = _lines(path)
    for n, line in enumerate(lines, 1):
        for m in token.finditer(line):
            if m.group() in ids:
                found.setdefault(m.group(), (str(path), n))
    # Items with ids derived from their text: find where their stem (or front) starts.
    for item in pack.items:
        if item.id in found:
            continue
        text = (getattr(item, "stem", None) or getattr(item, "front", "")).split("\n")[0][:40]
        n = next((n for n, line in enumerate(lines, 1) if text and text in line), None)
        if n is not None:
            found[item.id] = (str(path), n)
    return str(path), found


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").split("\n")
    except OSError:
        return []


def _scan(path: Path, pattern: re.Pattern[str], found: dict[str, tuple[str, int]]) -> None:
    for n, line in enumerate(_lines(path), 1):
        for m in pattern.finditer(line):
            found.setdefault(m.group(1), (str(path), n))


def lint_problems(pack, path: Path, fmt: str | None = None) -> list:  # type: ignore[no-untyped-def]
    """The item-writing warnings of a loaded pack, as located Problems."""
    from cmqprep.domain.lint import lint_items
    from cmqprep.packs.errors import Problem
    from cmqprep.packs.formats import detect_format

    where, found = _locations(pack, path)
    # Aiken cannot hold explanations; the reader already said so once for the whole file.
    skip = {"short-explanation"} if (fmt or detect_format(path)) == "aiken" else set()
    out = []
    for f in lint_items(pack.items, pack.blueprint):
        if f.rule in skip:
            continue
        code = f.item or f.where
        file, line = found.get(code, (where, None)) if code else (where, None)
        out.append(Problem(file, f"[{f.rule}] {f.message}", line=line, item=f.item,
                           severity="warning"))
    return out


def _say(lines: object, stream=None) -> None:  # type: ignore[no-untyped-def]
    for line in lines:  # type: ignore[attr-defined]
        print(clean(str(line)), file=stream or sys.stdout)


# ---- commands -------------------------------------------------------------------------------
def cmd_pack_new(args: argparse.Namespace) -> int:
    from cmqprep.domain.items import ID_PATTERN
    from cmqprep.packs.native import MANIFEST
    from cmqprep.packs.scaffold import scaffold
    from cmqprep.paths import bundled_bank

    dest = Path(args.dir)
    if not ID_PATTERN.match(args.id):
        raise UserError(f"pack id {args.id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if not args.title.strip():
        raise UserError("the title must not be empty")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(f"{dest} already exists and is not an empty folder; choose a new one")
    source = Path(args.blueprint) if args.blueprint else bundled_bank() / MANIFEST
    written = scaffold(dest, args.id, args.title, source, args.license)
    print(f"Created pack {args.id} in {dest}: {', '.join(p.name for p in written)}")
    print(f"Next: edit the items, then 'cmqprep pack validate {dest}' and "
          f"'cmqprep pack install {dest}'")
    return EXIT_OK


def cmd_pack_validate(args: argparse.Namespace) -> int:
    from cmqprep.packs.errors import PackError

    failed = False
    for raw in args.paths:
        path = Path(raw)
        try:
            pack, warnings = load(path, args.format, args.blueprint, topic=args.topic,
                                  level=args.level)
        except PackError as exc:
            failed = True
            _say(exc.problems, sys.stderr)
            continue
        warnings += lint_problems(pack, path, args.format)
        _say(warnings, sys.stderr)
        q = sum(1 for i in pack.items if i.kind == "question")
        verdict = "ok" if not (warnings and args.strict) else "failed (--strict)"
        failed = failed or verdict != "ok"
        _say([f"{raw}: {verdict}: {pack.manifest.id} {pack.manifest.version}, {q} questions, "
              f"{len(pack.items) - q} term cards, {len(warnings)} warning(s)"])
    return EXIT_INVALID if failed else EXIT_OK


def cmd_pack_install(args: argparse.Namespace) -> int:
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services.packs import OlderVersionError, install_pack

    # validate before touching the database
    pack, warnings = load(Path(args.path), args.format, args.blueprint, pack_id=args.id,
                          version=args.version, topic=args.topic, level=args.level)
    _say(warnings, sys.stderr)
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
    _say(summary.lines())
    return EXIT_OK


def cmd_pack_export(args: argparse.Namespace) -> int:
    from cmqprep.packs.formats import export_pack
    from cmqprep.services.pack_admin import pack_from_db

    dest = Path(args.output)
    occupied = dest.exists() and (dest.is_file() or any(dest.iterdir()))
    if occupied and not args.force:
        raise UserError(f"{dest} already exists; pass --force to overwrite it")
    pack = pack_from_db(context(args).engine, args.pack)
    if pack is None:
        raise UserError(f"no installed pack {args.pack!r}; see 'cmqprep pack list'")
    # What the format cannot carry (Aiken: explanations, topics, term cards...) goes to stderr.
    _say(export_pack(pack, args.format, dest, overwrite=args.force), sys.stderr)
    q = sum(1 for i in pack.items if i.kind == "question")
    _say([f"Exported {pack.manifest.id} {pack.manifest.version} ({q} questions, "
          f"{len(pack.items) - q} term cards) as {args.format} to {dest}"])
    return EXIT_OK


def cmd_pack_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from cmqprep.services.pack_admin import list_packs

    packs = list_packs(context(args).engine, include_removed=args.all)
    if args.json:
        print(json.dumps([asdict(p) for p in packs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not packs:
        print("No packs installed.")
    for p in packs:
        note = " (removed)" if p.removed else f" ({p.retired} retired)" if p.retired else ""
        _say([f"{p.key:<16} {p.version:<12} {p.questions:>5} questions {p.terms:>5} terms"
              f"{note}  {p.title}"])
    return EXIT_OK


def cmd_pack_show(args: argparse.Namespace) -> int:
    from cmqprep.domain.coverage import ItemFacts, coverage_lines

    path = Path(args.pack)
    if path.exists():
        pack, _ = load(path)
        topics = pack.blueprint.topic_codes()
        facts = [ItemFacts(topics[i.topic], i.topic, i.kind, getattr(i, "level", ""))
                 for i in pack.items]
        head = f"{pack.manifest.id} {pack.manifest.version}: {pack.manifest.title} (from {path})"
        blueprint = pack.blueprint
    else:
        from cmqprep.services.pack_admin import pack_coverage

        found = pack_coverage(context(args).engine, args.pack)
        if found is None:
            raise UserError(f"no installed pack {args.pack!r} and no such folder; see "
                            f"'cmqprep pack list'")
        row, blueprint, facts = found
        head = f"{row.key} {row.version}: {row.title}"
    _say([head, f"{blueprint.name}: {blueprint.scored} scored + {blueprint.unscored} unscored "
                f"questions, {blueprint.minutes} minutes"])
    _say(coverage_lines(blueprint, facts))
    return EXIT_OK


def _bundled_id() -> str | None:
    from cmqprep.packs.errors import PackError, read_text
    from cmqprep.packs.native import MANIFEST, parse_manifest
    from cmqprep.paths import bundled_bank

    path = bundled_bank() / MANIFEST
    try:
        return parse_manifest(read_text(path, str(path)), str(path))[0].id
    except PackError:
        return None


def cmd_pack_remove(args: argparse.Namespace) -> int:
    from cmqprep.services.pack_admin import PackNotInstalled, removal_impact, remove_pack

    ctx = context(args)
    try:
        impact = removal_impact(ctx.engine, args.pack, args.purge)
    except PackNotInstalled as exc:
        raise UserError(str(exc)) from None
    if args.purge:
        what = (f"Purge {impact.pack} {impact.version}: delete its {impact.items} item(s) and "
                f"ALL progress on them ({impact.reviews} review(s) of {impact.learners} "
                f"learner(s)); its questions leave {impact.attempts} quiz/exam attempt(s)")
    else:
        what = (f"Remove {impact.pack} {impact.version}: its {impact.items} item(s) will no "
                f"longer be studied; progress ({impact.reviews} review(s) of {impact.learners} "
                f"learner(s)) is kept")
    _say([what], sys.stderr)
    if args.pack == _bundled_id():
        _say([f"cmqprep: warning: {args.pack} is the bundled bank: "
              + ("cmqprep installs it again, without progress, the next time it starts"
                 if args.purge else
                 "it stays removed until a newer cmqprep ships a newer bank, which brings it "
                 "back with your progress")], sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError("not removed: confirmation needed; run in a terminal or pass --yes")
        if not confirm("Go ahead?"):
            raise UserError("not removed")
    try:
        done = remove_pack(ctx.engine, args.pack, args.purge)
    except PackNotInstalled as exc:
        raise UserError(str(exc)) from None
    _say(done.lines())
    return EXIT_OK


def cmd_pack_stats(args: argparse.Namespace) -> int:
    from cmqprep.services.item_analysis import pack_stats, table_lines

    stats = pack_stats(context(args).engine, args.pack)
    if stats is None:
        raise UserError(f"no installed pack {args.pack!r}; see 'cmqprep pack list'")
    if args.json:
        print(json.dumps(stats.to_json(), indent=2, ensure_ascii=False))
        return EXIT_OK
    flagged = sum(1 for i in stats.items if i.flags)
    _say([f"{stats.pack} {stats.version}: {len(stats.items)} questions, "
          f"{sum(i.attempts for i in stats.items)} answers in this database, {flagged} flagged "
          f"(flags need {stats.min_attempts}+ answers; * marks the key)"])
    _say(table_lines(stats))
    return EXIT_OK

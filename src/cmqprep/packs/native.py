"""The native pack format: a `pack.toml` manifest (with the blueprint) plus TOML item files.

See docs/pack-format.md. Reading collects every problem it can find before raising, so an
author fixes a file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmqprep.domain.blueprint import LEVELS, Area, Blueprint, Topic
from cmqprep.domain.items import ID_PATTERN, Item
from cmqprep.packs import toml_subset
from cmqprep.packs.errors import MAX_ITEMS, PackError, Problem, read_text
from cmqprep.packs.native_items import Collector, expect, read_question, read_term

FORMAT_VERSION = 1
MANIFEST = "pack.toml"
_HEADER = re.compile(r"^\s*\[\[\s*(question|term)\s*\]\]")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")


@dataclass(frozen=True)
class Manifest:
    id: str
    version: str
    title: str
    license: str
    description: str = ""


@dataclass
class Pack:
    manifest: Manifest
    blueprint: Blueprint
    items: list[Item] = field(default_factory=list)
    source: str = ""


def version_key(version: str) -> tuple[int, ...]:
    """Sortable form of a dotted numeric version ('2026.11.1' -> (2026, 11, 1))."""
    return tuple(int(p) for p in version.split("."))


def _toml(text: str, display: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_AT.search(msg)
        line = int(m.group(1)) if m else None
        msg = _TOML_AT.sub(f"(column {m.group(2)})" if m else "", msg).strip()
        raise PackError([Problem(display, f"TOML syntax error: {msg}", line=line)]) from None
    except RecursionError:
        # tomllib recurses per nesting level: a hostile file of [[[[... would escape as a crash.
        raise PackError([Problem(display, "arrays or tables are nested too deeply; a pack "
                                          "file needs no more than a few levels")]) from None


def _manifest_line(text: str, key: str) -> int | None:
    pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n, line in enumerate(text.split("\n"), 1):
        if pat.match(line):
            return n
    return None


def _table_line(text: str, name: str) -> int | None:
    pat = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]")
    return next((n for n, line in enumerate(text.split("\n"), 1) if pat.match(line)), None)


def parse_manifest(text: str, display: str) -> tuple[Manifest, Blueprint, list[str] | None]:
    """Read pack.toml: the manifest, the blueprint and the optional explicit item-file list."""
    data = _toml(text, display)
    c = Collector()
    fmt = data.get("format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION:
        c.add(display, f"pack format {fmt!r} is not supported (this cmqprep reads format "
                       f"{FORMAT_VERSION}); upgrade cmqprep", _manifest_line(text, "format"))
    pid = expect(c, display, data, "id", str, "", _manifest_line(text, "id"))
    if isinstance(pid, str) and not ID_PATTERN.match(pid):
        c.add(display, "id must be 1-64 letters, digits, '.', '_' or '-'", _manifest_line(text, "id"))
    version = expect(c, display, data, "version", str, "", _manifest_line(text, "version"))
    if isinstance(version, str) and not _VERSION.match(version):
        c.add(display, f"version {version!r} must be numbers separated by dots, e.g. 1.2.0",
              _manifest_line(text, "version"))
    title = expect(c, display, data, "title", str, "", _manifest_line(text, "title"))
    lic = expect(c, display, data, "license", str, "", _manifest_line(text, "license"))
    desc = expect(c, display, data, "description", str, "", required=False) or ""
    items = data.get("items")
    if items is not None and not (isinstance(items, list) and all(isinstance(i, str) for i in items)):
        c.add(display, "field 'items' must be a list of file names", _manifest_line(text, "items"))
        items = None
    bp_line = _table_line(text, "blueprint") or _manifest_line(text, "blueprint")
    bp = expect(c, display, data, "blueprint", dict, "", bp_line)
    blueprint = Blueprint("", 0, 0, 0, ())
    if isinstance(bp, dict):
        blueprint = _parse_blueprint(c, display, bp)
    if c.problems:
        raise PackError(c.problems)
    return Manifest(pid, version, title, lic, desc), blueprint, items


def _parse_blueprint(c: Collector, display: str, bp: dict[str, Any]) -> Blueprint:
    w = "blueprint: "
    name = expect(c, display, bp, "name", str, w) or ""
    scored = expect(c, display, bp, "scored", int, w) or 0
    unscored = expect(c, display, bp, "unscored", int, w, required=False) or 0
    minutes = expect(c, display, bp, "minutes", int, w) or 0
    for key, value in (("scored", scored), ("unscored", unscored), ("minutes", minutes)):
        if value < 0 or value > 10_000:
            c.add(display, f"{w}{key} must be between 0 and 10000")
    raw_areas = expect(c, display, bp, "areas", list, w) or []
    areas: list[Area] = []
    seen: set[str] = set()
    for n, ra in enumerate(raw_areas, 1):
        aw = f"blueprint area {n}: "
        if not isinstance(ra, dict):
            c.add(display, f"{aw}must be a table")
            continue
        code = expect(c, display, ra, "code", str, aw)
        atitle = expect(c, display, ra, "title", str, aw)
        ascored = expect(c, display, ra, "scored", int, aw)
        topics: list[Topic] = []
        for m, rt in enumerate(expect(c, display, ra, "topics", list, aw) or [], 1):
            tw = f"{aw}topic {m}: "
            if not isinstance(rt, dict):
                c.add(display, f"{tw}must be a table")
                continue
            tcode = expect(c, display, rt, "code", str, tw)
            ttitle = expect(c, display, rt, "title", str, tw)
            level = expect(c, display, rt, "level", str, tw, required=False) or "create"
            if level not in LEVELS:
                c.add(display, f"{tw}unknown level {level!r} (use one of {', '.join(LEVELS)})")
            if tcode in seen:
                c.add(display, f"{tw}duplicate code {tcode!r}")
            if isinstance(tcode, str) and isinstance(ttitle, str):
                seen.add(tcode)
                topics.append(Topic(tcode, ttitle, level))
        if code in seen:
            c.add(display, f"{aw}duplicate code {code!r}")
        if not topics:
            c.add(display, f"{aw}an area needs at least one topic")
        if isinstance(code, str) and isinstance(atitle, str) and isinstance(ascored, int):
            seen.add(code)
            areas.append(Area(code, atitle, ascored, tuple(topics)))
    if not raw_areas:
        c.add(display, f"{w}needs at least one area")
    if areas and sum(a.scored for a in areas) != scored:
        c.add(display, f"{w}area counts add up to {sum(a.scored for a in areas)}, but scored "
                       f"is {scored}")
    return Blueprint(name, scored, unscored, minutes, tuple(areas))


def _header_lines(text: str) -> dict[str, list[int]]:
    lines: dict[str, list[int]] = {"question": [], "term": []}
    for n, line in enumerate(text.split("\n"), 1):
        m = _HEADER.match(line)
        if m:
            lines[m.group(1)].append(n)
    return lines


def parse_items(text: str, display: str, topics: dict[str, str], c: Collector) -> list[Item]:
    """Read one item file; problems go to the collector, valid items are returned."""
    fast = toml_subset.loads(text)  # the common case, several times faster than tomllib
    if fast is not None:
        data, headers = fast
    else:
        try:
            data = _toml(text, display)
        except PackError as exc:
            c.problems.extend(exc.problems)
            return []
        headers = _header_lines(text)
    for key in data:
        if key not in ("question", "term"):
            c.add(display, f"unknown top-level key {key!r} (expected [[question]] or [[term]])",
                  _manifest_line(text, key))
    out: list[Item] = []
    for kind in ("question", "term"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            c.add(display, f"'{kind}' must be an array of tables ([[{kind}]])")
            continue
        for n, entry in enumerate(entries):
            line = headers[kind][n] if n < len(headers[kind]) else None
            if not isinstance(entry, dict):
                c.add(display, f"{kind} {n + 1} must be a table", line)
                continue
            if not c.claim_id(entry.get("id"), display, line):
                continue
            read = read_question if kind == "question" else read_term
            item = read(entry, display, line, topics, c)
            if item is not None:
                out.append(item)
    return out


def _item_files(root: Path, listed: list[str] | None, display_root: str,
                c: Collector) -> list[Path]:
    base = root.resolve()
    if listed is None:
        found = sorted(p for p in root.glob("*.toml") if p.name != MANIFEST)
        # A symlink in an unpacked pack must not make us read a file from elsewhere.
        outside = [p for p in found if base not in p.resolve().parents]
        for p in outside:
            c.add(str(p), "this item file is a link to a file outside the pack directory; "
                          "copy the file into the pack instead")
        return [p for p in found if p not in outside]
    out = []
    for name in listed:
        candidate = (root / name).resolve()
        if Path(name).is_absolute() or base not in candidate.parents:
            c.add(f"{display_root}/{MANIFEST}", f"item file {name!r} lies outside the pack "
                                                f"directory; list files inside it")
            continue
        out.append(candidate)
    return out


def load_pack(path: str | Path) -> Pack:
    """Read and validate a native pack (a directory holding pack.toml, or pack.toml itself)."""
    path = Path(path)
    root = path.parent if path.name == MANIFEST else path
    display_root = str(root)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise PackError([Problem(display_root, f"no {MANIFEST} here: a native pack is a "
                                               f"directory with a {MANIFEST} manifest")])
    mdisplay = str(manifest_path)
    manifest, blueprint, listed = parse_manifest(read_text(manifest_path, mdisplay), mdisplay)
    c = Collector()
    topics = blueprint.topic_codes()
    items: list[Item] = []
    for f in _item_files(root, listed, display_root, c):
        display = str(f)
        try:
            text = read_text(f, display)
        except PackError as exc:
            c.problems.extend(exc.problems)
            continue
        items.extend(parse_items(text, display, topics, c))
        if len(items) > MAX_ITEMS:
            c.add(display, f"more than {MAX_ITEMS:,} items in one pack")
            break
    if not items and not c.problems:
        c.add(display_root, "the pack holds no items")
    if c.problems:
        raise PackError(c.problems)
    return Pack(manifest, blueprint, items, source=display_root)


"""Interchange formats: detect a file's format, read any pack format, export a pack to any format.

Public API (used by `cmqprep pack install/validate/export`; keep these signatures stable):

- ``FORMATS = ("native", "gift", "aiken", "csv")``
- ``detect_format(path) -> str``: "native" for a directory or a ``pack.toml``; "gift" for
  ``.gift``; "csv" for ``.csv``/``.tsv``; "aiken" for ``.aiken``; a ``.txt`` file is sniffed
  (``ANSWER:`` lines and no answer blocks mean Aiken, otherwise GIFT). Raises PackError when the
  path is missing or the kind cannot be told (pass ``fmt`` then).
- ``load_any(path, fmt=None, *, blueprint_from=None, pack_id=None, version=None, title=None,
  license=None, description=None, topic=None, level=None) -> tuple[Pack, list[Problem]]``: the
  pack and its warnings (Problem with severity "warning"). Raises PackError with every located
  error. ``blueprint_from`` (a native pack folder or its pack.toml) gives the blueprint of a GIFT,
  Aiken or CSV file; by default the bundled CMQ/OE blueprint. ``pack_id``/``version``/``title``/
  ``license``/``description`` override the file's header; ``topic``/``level`` are used for items
  the file gives none. Overrides are ignored (with a warning) for native packs.
- ``export_text(pack, fmt) -> str`` for "gift", "aiken" and "csv"; raises PackError naming each
  item the format cannot hold.
- ``export_losses(pack, fmt) -> list[Problem]``: warnings about what the format drops.
- ``export_pack(pack, fmt, dest, *, overwrite=False) -> list[Problem]``: writes a file (or, for
  "native", a folder via ``write_native``) and returns ``export_losses``.
- ``write_native(pack, dest, *, overwrite=False) -> None``: pack.toml plus one item file per area.

The mapping of each format to cmqprep items is documented in docs/interchange.md.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from cmqprep.domain.blueprint import Blueprint
from cmqprep.domain.items import (
    Item,
    Question,
    TermCard,
    reflow,
)
from cmqprep.packs.errors import (
    PackError,
    Problem,
    open_regular,
)
from cmqprep.packs.native import MANIFEST, Pack, load_pack

FORMATS = ("native", "gift", "aiken", "csv")
_EXT = {".gift": "gift", ".csv": "csv", ".tsv": "csv", ".aiken": "aiken"}
_AIKEN_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*[A-Z]\b", re.I | re.M)


def detect_format(path: str | Path) -> str:
    """Tell a pack's format from its path and, for .txt files, its content."""
    path = Path(path)
    if path.is_dir() or path.name == MANIFEST:
        return "native"
    suffix = path.suffix.lower()
    if suffix in _EXT:
        return _EXT[suffix]
    if not path.exists():
        raise PackError([Problem(str(path), "no such file or folder")])
    if suffix != ".txt":
        raise PackError([Problem(str(path), "cannot tell the format from the name: use a "
                                            ".gift, .txt, .csv or .aiken name, or give the "
                                            "format (native, gift, aiken or csv)")])
    try:
        with open_regular(path, str(path)) as fh:  # a FIFO named x.txt must not block
            head = fh.read(256 * 1024)
    except OSError as exc:
        raise PackError([Problem(str(path), f"cannot read: {exc.strerror or exc}")]) from None
    text = head.decode("utf-8", errors="replace")
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith("//")]
    body = "\n".join(lines)
    # an Aiken file has "A) ..." option lines and "ANSWER: X" lines; GIFT has neither
    if _AIKEN_ANSWER.search(body) and re.search(r"^\s*[A-Z][.)][ \t]", body, re.M):
        return "aiken"
    return "gift"


def load_any(path: str | Path, fmt: str | None = None, *,
             blueprint_from: str | Path | None = None,
             **overrides: str | None) -> tuple[Pack, list[Problem]]:
    """Read a pack in any supported format; returns (pack, warnings) or raises PackError."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "native":
        warnings = []
        given = sorted(k for k, v in overrides.items() if v is not None)
        if given or blueprint_from is not None:
            warnings.append(Problem(str(path), f"ignored for a native pack (its pack.toml "
                                               f"decides): {', '.join(given) or 'blueprint'}",
                                    severity="warning"))
        return load_pack(path), warnings
    reader = _module(fmt)
    return reader.read(path, blueprint_from=blueprint_from, **overrides)


def _module(fmt: str):  # noqa: ANN202 - one of the three reader modules
    if fmt == "gift":
        from cmqprep.packs import gift as mod
    elif fmt == "aiken":
        from cmqprep.packs import aiken as mod
    elif fmt == "csv":
        from cmqprep.packs import csvfmt as mod
    else:
        raise PackError([Problem("<format>", f"unknown format {fmt!r} (use one of "
                                             f"{', '.join(FORMATS)})")])
    return mod


def export_text(pack: Pack, fmt: str) -> str:
    """The pack as one GIFT, Aiken or CSV text (native is a folder: use write_native)."""
    if fmt == "native":
        raise PackError([Problem("<export>", "a native pack is a folder: use write_native")])
    return _module(fmt).dump(pack)


def export_losses(pack: Pack, fmt: str) -> list[Problem]:
    """Warnings about what exporting `pack` as `fmt` leaves out."""
    if fmt == "native":
        return []
    return _module(fmt).losses(pack)


def export_pack(pack: Pack, fmt: str, dest: str | Path, *, overwrite: bool = False) -> list[Problem]:
    """Write `pack` to `dest` as `fmt`; returns the warnings of export_losses."""
    dest = Path(dest)
    if fmt == "native":
        write_native(pack, dest, overwrite=overwrite)
        return []
    text = export_text(pack, fmt)
    losses = export_losses(pack, fmt)
    if dest.exists() and not overwrite:
        raise PackError([Problem(str(dest), "already exists; choose another name or overwrite")])
    _atomic_write(dest, text)
    return losses


def _atomic_write(dest: Path, text: str) -> None:
    """Write through a temporary file so a failed export never leaves half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the native writer ---------------------------------------------------------------------

def _toml_str(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_text(text: str, where: str, problems: list[Problem]) -> str:
    """A TOML string that the native reader's reflow turns back into exactly `text`."""
    written = text
    if reflow(written) != text:
        # A line break reflow would join is kept when the next line starts with a tab (a table
        # row to reflow); the tab itself is stripped again on reading.
        written = "\n\n".join(p.replace("\n", "\n\t") for p in text.split("\n\n"))
        if reflow(written) != text:
            problems.append(Problem(where, "text cannot be written in the native format "
                                           "unchanged (leading or trailing blanks?)"))
    if "\n" not in written:
        return _toml_str(written)
    body = _toml_str(written)[1:-1].replace("\\n", "\n").replace("\\t", "\t")
    return f'"""\n{body}"""'


def _file_names(blueprint: Blueprint) -> dict[str, str]:
    names: dict[str, str] = {}
    for area in blueprint.areas:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", area.code).strip("._") or "area"
        name, n = f"{base}.toml", 2
        while name in names.values() or name == MANIFEST:
            name, n = f"{base}-{n}.toml", n + 1
        names[area.code] = name
    return names


def _item_toml(item: Item, problems: list[Problem], display: str) -> str:
    def field(key: str, value: str) -> str:
        return f"{key} = {_toml_text(value, display, problems)}\n"

    out = ["[[question]]\n" if isinstance(item, Question) else "[[term]]\n",
           f"id = {_toml_str(item.id)}\n", f"topic = {_toml_str(item.topic)}\n"]
    if isinstance(item, Question):
        out.append(f"level = {_toml_str(item.level)}\n")
        out.append(field("stem", item.stem))
        out.append("options = [\n" + "".join(f"  {_toml_text(o, display, problems)},\n"
                                             for o in item.options) + "]\n")
        out.append(f'key = "{item.key_letter}"\n')
        out.append(field("explanation", item.explanation))
        out.append(field("reference", item.reference))
    else:
        out.append(field("front", item.front))
        out.append(field("back", item.back))
        if item.reference:
            out.append(field("reference", item.reference))
    if item.tags:
        out.append("tags = [" + ", ".join(_toml_str(t) for t in item.tags) + "]\n")
    if item.checked:
        out.append(f"checked = {_toml_str(item.checked)}\n")
    return "".join(out)


def native_texts(pack: Pack) -> dict[str, str]:
    """The files of the pack in the native format: {file name: text}, pack.toml first."""
    names = _file_names(pack.blueprint)
    area_of = pack.blueprint.topic_codes()
    files: dict[str, list[Item]] = {}
    for item in pack.items:
        name = names.get(area_of.get(item.topic, ""), "other.toml")
        files.setdefault(name, [])
        files[name].append(item)
    problems: list[Problem] = []
    bodies: dict[str, str] = {}
    for name, items in files.items():
        # the native reader reads a file's questions before its terms: write them in that order
        ordered = [i for i in items if isinstance(i, Question)] + \
                  [i for i in items if isinstance(i, TermCard)]
        bodies[name] = "\n".join(_item_toml(i, problems, f"{name}: item {i.id}")
                                 for i in ordered)
    if problems:
        raise PackError(problems)
    m, bp = pack.manifest, pack.blueprint
    head = ["# cmqprep native pack manifest, written by cmqprep.\nformat = 1\n",
            f"id = {_toml_str(m.id)}\n", f"version = {_toml_str(m.version)}\n",
            f"title = {_toml_str(m.title)}\n", f"license = {_toml_str(m.license)}\n"]
    if m.description:
        head.append(f"description = {_toml_str(m.description)}\n")
    head.append("items = [" + ", ".join(_toml_str(n) for n in bodies) + "]\n\n")
    head.append(f"[blueprint]\nname = {_toml_str(bp.name)}\nscored = {bp.scored}\n"
                f"unscored = {bp.unscored}\nminutes = {bp.minutes}\n")
    for a in bp.areas:
        topics = "".join(f"  {{ code = {_toml_str(t.code)}, title = {_toml_str(t.title)}, "
                         f"level = {_toml_str(t.level)} }},\n" for t in a.topics)
        head.append(f"\n[[blueprint.areas]]\ncode = {_toml_str(a.code)}\n"
                    f"title = {_toml_str(a.title)}\nscored = {a.scored}\ntopics = [\n{topics}]\n")
    return {MANIFEST: "".join(head), **bodies}


def write_native(pack: Pack, dest: str | Path, *, overwrite: bool = False) -> None:
    """Write the pack as a native folder that load_pack reads back to the same items."""
    dest = Path(dest)
    texts = native_texts(pack)  # fails before anything is written
    if dest.exists() and not dest.is_dir():
        raise PackError([Problem(str(dest), "is a file; a native pack is a folder")])
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise PackError([Problem(str(dest), "is not empty; choose a new folder or overwrite")])
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        _atomic_write(dest / name, text)

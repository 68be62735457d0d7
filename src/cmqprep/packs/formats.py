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

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from cmqprep.domain.blueprint import LEVELS, Blueprint, level_rank
from cmqprep.domain.items import (
    ID_PATTERN,
    Item,
    Question,
    TermCard,
    check_question,
    check_term,
    reflow,
)
from cmqprep.packs.errors import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    PackError,
    Problem,
    decode_text,
    open_regular,
    read_text,
)
from cmqprep.packs.native import MANIFEST, Manifest, Pack, load_pack, parse_manifest

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


def check_text_exportable(items: list[Item], where: str, fmt: str,
                          tag_forbidden: str | None) -> list[Problem]:
    """Items a text format cannot hold exactly: control characters and awkward tags (tags are
    not checked when `tag_forbidden` is None: the format drops them)."""
    out: list[Problem] = []
    for item in items:
        texts = ([item.stem, *item.options, item.explanation, item.reference]
                 if isinstance(item, Question) else [item.front, item.back, item.reference])
        if any(CONTROL.search(t) for t in texts):
            out.append(Problem(where, "contains a control character (other than a line break "
                                      "or tab) that the format cannot hold", item=item.id))
        for tag in item.tags if tag_forbidden is not None else ():
            if not tag or tag != tag.strip() or "\n" in tag or any(c in tag for c in tag_forbidden):
                out.append(Problem(where, f"tag {tag!r} cannot be written in {fmt} (empty, blank "
                                          f"at an end, or holding {tag_forbidden!r})",
                                   item=item.id))
    return out


# --- what the GIFT, Aiken and CSV readers share ----------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PROBLEMS = 500
PACK_KEYS = ("id", "version", "title", "license", "description")
DEFAULT_KEYS = ("topic", "level")
OVERRIDES = ("pack_id", "version", "title", "license", "description", "topic", "level")
_HEADER = re.compile(r"^cmqprep\s*:(.*)$", re.I | re.S)
_PAIR = re.compile(r"(?:^|,)\s*(id|version|title|license|description|topic|level)\s*=", re.I)


def header_pairs(comment: str) -> list[tuple[str, str]] | None:
    """Pairs of a `cmqprep: key = value, key = value` comment (its marker removed), or None
    when the comment is not a cmqprep header. A pair ('', text) means it could not be read."""
    m = _HEADER.match(comment.strip())
    if not m:
        return None
    body = m.group(1).strip()
    found = list(_PAIR.finditer(body))
    if not found or found[0].start() != 0:
        return [("", body)]
    ends = [f.start() for f in found[1:]] + [len(body)]
    return [(f.group(1).lower(), body[f.end():end].strip()) for f, end in zip(found, ends)]


def content_id(kind: str, *texts: str) -> str:
    """A deterministic id for an item without one: a short hash of its normalized text."""
    norm = "\x1f".join(" ".join(t.split()).casefold() for t in texts)
    prefix = "q-" if kind == "question" else "t-"
    return prefix + hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def load_blueprint(source: Blueprint | str | Path | None) -> Blueprint:
    """The blueprint of a native pack (folder or pack.toml); the bundled CMQ/OE one by default."""
    if isinstance(source, Blueprint):
        return source
    if source is None:
        from cmqprep.paths import bundled_bank

        path = bundled_bank() / MANIFEST
    else:
        path = Path(source)
        path = path / MANIFEST if path.is_dir() else path
    display = str(path)
    return parse_manifest(read_text(path, display), display)[1]


def decode(data: str | bytes, display: str) -> str:
    """Text from bytes (with the native reader's checks) or from an already decoded str."""
    if len(data) > MAX_FILE_BYTES:
        raise PackError([Problem(display, f"more than {MAX_FILE_BYTES:,} bytes")])
    if isinstance(data, bytes):
        return decode_text(data, display)
    text = data.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    nul = text.find("\x00")
    if nul >= 0:
        raise PackError([Problem(display, "contains a NUL byte; is this a binary file?",
                                 line=text.count("\n", 0, nul) + 1)])
    return text


def stem_id(name: str) -> str:
    """A pack id made from a file name ('My Questions (v2)' -> 'My-Questions-v2')."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:64].rstrip("-._")
    return cleaned or "imported"


class Builder:
    """Collects the items of one GIFT, Aiken or CSV file, validating each as the native reader
    does, with every problem located; then makes the Pack."""

    def __init__(self, display: str, blueprint: Blueprint, overrides: dict[str, str | None], *,
                 id_hint: str, topic_hint: str, summary_ids: bool = False):
        unknown = set(overrides) - set(OVERRIDES)
        if unknown:
            raise TypeError(f"unknown override(s): {', '.join(sorted(unknown))}")
        self.display, self.blueprint = display, blueprint
        self.topics = blueprint.topic_codes()
        self.topic_level = {t.code: t.level for a in blueprint.areas for t in a.topics}
        self.over = {k: v for k, v in overrides.items() if v is not None}
        self.id_hint, self.topic_hint, self.summary_ids = id_hint, topic_hint, summary_ids
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.header: dict[str, tuple[str, int | None]] = {}
        self.topic: str | None = None  # default topic set by a header line in the file
        self.level: str | None = None
        self.items: list[Item] = []
        self.seen: dict[str, int | None] = {}
        self.unnamed: list[tuple[int | None, str]] = []
        self.started = False
        for key in DEFAULT_KEYS:
            value = self.over.get(key)
            if value is not None and not self._valid_default(key, value, None, "given "):
                del self.over[key]

    def error(self, message: str, line: int | None = None, item: str | None = None) -> None:
        self.problems.append(Problem(self.display, message, line=line, item=item))
        if len(self.problems) >= MAX_PROBLEMS:
            # a file this broken is probably not in this format: stop rather than flood
            self.problems.append(Problem(self.display, f"stopped after {MAX_PROBLEMS} "
                                                       f"problems; is this the right format?"))
            raise PackError(self.problems)

    def warn(self, message: str, line: int | None = None, item: str | None = None) -> None:
        self.warnings.append(Problem(self.display, message, line=line, item=item,
                                     severity="warning"))

    def _valid_default(self, key: str, value: str, line: int | None, how: str = "") -> bool:
        if key == "topic" and value not in self.topics:
            self.error(f"{how}topic {value!r} is not in the blueprint", line)
            return False
        if key == "level" and value not in LEVELS:
            self.error(f"{how}level {value!r} is unknown (use one of {', '.join(LEVELS)})", line)
            return False
        return True

    def set_header(self, key: str, value: str, line: int | None) -> None:
        if key in DEFAULT_KEYS:
            if self._valid_default(key, value, line):
                setattr(self, key, value)
        elif key not in PACK_KEYS:
            self.error(f"cannot read the cmqprep header {value!r}: write 'cmqprep: key = value' "
                       f"with key one of {', '.join(PACK_KEYS + DEFAULT_KEYS)}", line)
        elif self.started:
            self.error(f"the pack header '{key}' comes after the first item: put it at the top",
                       line)
        elif key in self.header:
            self.error(f"header '{key}' given twice (first on line {self.header[key][1]})", line)
        else:
            self.header[key] = (value, line)

    def _prepare(self, kind: str, line: int | None, iid: str | None, topic: str | None,
                 checked: str, texts: tuple[str, ...]) -> tuple[str, str, dict[str, str], int]:
        self.started = True
        before = len(self.problems)
        if iid is None:
            iid = content_id(kind, *texts)
            self.unnamed.append((line, iid))
        topics = self.topics
        if topic is None:
            topic = self.topic or self.over.get("topic")
        if not topic:
            if topic is None:
                self.error(f"no topic: {self.topic_hint}", line, iid)
            topic, topics = "", {**self.topics, "": ""}  # reported once already
        if checked and not _DATE.match(checked):
            self.error(f"checked date {checked!r} must look like 2026-11-21", line, iid)
        return iid, topic, topics, before

    def _keep(self, item: Item, line: int | None, messages: list[str], before: int) -> None:
        for msg in messages:
            self.error(msg, line, item.id)
        if item.id in self.seen:
            where = self.seen[item.id]
            self.error(f"duplicate id {item.id!r}" + (f" (first used on line {where})"
                                                      if where else ""), line, item.id)
        else:
            self.seen[item.id] = line
        if len(self.problems) == before:
            self.items.append(item)

    def add_question(self, line: int | None, *, qid: str | None, topic: str | None,
                     level: str | None, stem: str, options: list[str], key: int,
                     explanation: str, reference: str = "", tags: tuple[str, ...] = (),
                     checked: str = "") -> None:
        qid, topic, topics, before = self._prepare("question", line, qid, topic, checked,
                                                   (stem, *options))
        level = level or self.level or self.over.get("level") or self._default_level(topic)
        q = Question(qid, topic, level, stem, tuple(options), key, explanation, reference,
                     tuple(tags), checked)
        self._keep(q, line, check_question(q, topics), before)

    def add_term(self, line: int | None, *, tid: str | None, topic: str | None, front: str,
                 back: str, reference: str = "", tags: tuple[str, ...] = (),
                 checked: str = "") -> None:
        tid, topic, topics, before = self._prepare("term", line, tid, topic, checked, (front,))
        t = TermCard(tid, topic, front, back, reference, tuple(tags), checked)
        self._keep(t, line, check_term(t, topics), before)

    def _default_level(self, topic: str) -> str:
        # "apply" unless the BoK tests the topic at a lower level (then that level)
        top = self.topic_level.get(topic, "apply")
        return top if level_rank(top) < level_rank("apply") else "apply"

    def _pack_value(self, key: str) -> tuple[str | None, int | None]:
        over = self.over.get("pack_id" if key == "id" else key)
        if over is not None:
            return over, None
        return self.header.get(key, (None, None))

    def finish(self, name: str) -> tuple[Pack, list[Problem]]:
        """The pack, or PackError with every problem; `name` is the file stem for defaults."""
        if self.unnamed:
            how = f"editing such an item later makes it a new item (its progress is not " \
                  f"carried over); give it {self.id_hint}"
            if self.summary_ids:
                self.warn(f"{len(self.unnamed)} item(s) have no id and got ids derived from "
                          f"their text; {how}", self.unnamed[0][0])
            else:
                for line, iid in self.unnamed:
                    self.warn(f"no id: using {iid}, derived from its text; {how}", line, iid)
        if len(self.items) > MAX_ITEMS:
            self.error(f"more than {MAX_ITEMS:,} items in one pack")
        if not self.items and not self.problems:
            self.error("no items found")
        pid, pid_line = self._pack_value("id")
        if pid is not None and not ID_PATTERN.match(pid):
            self.error(f"pack id {pid!r} must be 1-64 letters, digits, '.', '_' or '-'", pid_line)
        version, v_line = self._pack_value("version")
        if version is not None and not _VERSION.match(version):
            self.error(f"version {version!r} must be numbers separated by dots, e.g. 1.2.0",
                       v_line)
        if self.problems:
            raise PackError(self.problems)
        pid = pid or stem_id(name)
        manifest = Manifest(pid, version or "0.0.0", self._pack_value("title")[0] or name or pid,
                            self._pack_value("license")[0] or "",
                            self._pack_value("description")[0] or "")
        return Pack(manifest, self.blueprint, self.items, source=self.display), self.warnings


def flatten(text: str) -> str:
    """One line: every line break (and the blanks around it) becomes one space."""
    return re.sub(r"\s*\n\s*", " ", text).strip()

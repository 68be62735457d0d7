"""What the GIFT, Aiken and CSV readers share: header comments, content ids, the blueprint,
decoding, and a Builder that turns parsed fields into validated items with located problems."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from cmqprep.domain.blueprint import LEVELS, Blueprint, level_rank
from cmqprep.domain.items import (
    ID_PATTERN,
    Item,
    Question,
    TermCard,
    check_question,
    check_term,
)
from cmqprep.packs.errors import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    PackError,
    Problem,
    decode_text,
    read_text,
)
from cmqprep.packs.native import MANIFEST, Manifest, Pack, parse_manifest


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

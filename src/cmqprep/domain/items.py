"""Questions and term cards, and the rules an item must satisfy to be studied."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from cmqprep.domain.blueprint import LEVELS

LETTERS = "ABCD"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    level: str
    stem: str
    options: tuple[str, ...]
    key: int  # index into options of the one best answer
    explanation: str
    reference: str = ""
    tags: tuple[str, ...] = ()
    checked: str = ""

    kind = "question"

    @property
    def key_letter(self) -> str:
        return LETTERS[self.key]

    def content_hash(self) -> str:
        # The JSON of [kind, topic, level, stem, options, key, explanation, reference], written
        # piece by piece (a pack install hashes every item; json.dumps per item was 3x slower).
        return _digest(f"[{_S(self.kind)},{_S(self.topic)},{_S(self.level)},{_S(self.stem)},"
                       f"{_strings(self.options)},{int(self.key)},{_S(self.explanation)},"
                       f"{_S(self.reference)}]")

    def answer_hash(self) -> str:
        """Hash of what decides right and wrong: the options and the key.

        When this changes in a pack update, the learner may have learned a wrong answer, so the
        item's schedule is reset (its history is kept).
        """
        return _digest(f"[{_strings(self.options)},{int(self.key)}]")


@dataclass(frozen=True)
class TermCard:
    id: str
    topic: str
    front: str
    back: str
    reference: str = ""
    tags: tuple[str, ...] = ()
    checked: str = ""

    kind = "term"

    def content_hash(self) -> str:
        return _digest(f"[{_S(self.kind)},{_S(self.topic)},{_S(self.front)},{_S(self.back)},"
                       f"{_S(self.reference)}]")

    def answer_hash(self) -> str:
        return _digest(f"[{_S(self.back)}]")


Item = Question | TermCard


def key_index(key: str, letters: str = LETTERS) -> int | None:
    """The option a key letter names ("b" -> 1), or None: one letter among `letters` only.

    A membership test on the string alone would take "AB" for A (a substring of "ABCD")."""
    letter = key.strip().upper()
    return letters.index(letter) if len(letter) == 1 and letter in letters else None


def _hash(value: object) -> str:
    """The item hash of a JSON value (the methods above write the same JSON by hand)."""
    return _digest(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


_S = json.encoder.encode_basestring  # one JSON string, as json.dumps(ensure_ascii=False) writes it


def _strings(values: tuple[str, ...]) -> str:
    return "[" + ",".join(map(_S, values)) + "]"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


_KEEP_BREAK = re.compile(r"^\s*([-*\u2022|>]|\d+[.)]\s|[A-Za-z][.)]\s)|\S\s{2,}\S|\t")


def reflow(text: str) -> str:
    """Join hard-wrapped lines into paragraphs, as an author's editor wrapped them.

    Blank lines separate paragraphs. A line break is kept before list items and around lines
    that look like table rows (runs of spaces or tabs), so small tables survive.
    """
    if "\n" not in text:
        return text.strip()  # what the general case gives for one line, without the regexes
    paragraphs = re.split(r"\n\s*\n", text.strip())
    out = []
    for para in paragraphs:
        # Decide on the stripped lines: that is what the output keeps, so reflowing the
        # output again takes the same decisions (a leading tab alone is not a table row).
        lines = [ln.strip() for ln in para.split("\n")]
        merged = lines[0] if lines else ""
        for prev, line in zip(lines, lines[1:]):
            if _KEEP_BREAK.search(line) or _KEEP_BREAK.search(prev) or prev.endswith(":"):
                merged += "\n" + line
            else:
                merged += " " + line
        out.append(merged)
    return "\n\n".join(out)


def check_question(q: Question, topics: dict[str, str]) -> list[str]:
    """Return the reasons this question cannot be studied as is (empty when it is valid)."""
    out: list[str] = []
    if not ID_PATTERN.match(q.id):
        out.append(f"id {q.id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if q.topic not in topics:
        out.append(f"unknown topic {q.topic!r} (not in the pack's blueprint)")
    if q.level not in LEVELS:
        out.append(f"unknown cognitive level {q.level!r} (use one of {', '.join(LEVELS)})")
    if not q.stem.strip():
        out.append("empty stem")
    if len(q.options) != 4:
        out.append(f"a question needs exactly 4 options, found {len(q.options)}")
    normalized = [" ".join(o.lower().split()) for o in q.options]
    if "" in normalized:
        out.append("an option is empty")
    if len(set(normalized)) < len(normalized):  # look for the duplicates only when there are some
        dupes = sorted({o for o in normalized if o and normalized.count(o) > 1})
        for d in dupes:
            out.append(f"duplicate option {d!r}")
    if not 0 <= q.key < max(len(q.options), 1):
        out.append("the key is not among the options")
    if not q.explanation.strip():
        out.append("missing explanation")
    return out


def check_term(t: TermCard, topics: dict[str, str]) -> list[str]:
    """Return the reasons this term card cannot be studied as is (empty when it is valid)."""
    out: list[str] = []
    if not ID_PATTERN.match(t.id):
        out.append(f"id {t.id!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if t.topic not in topics:
        out.append(f"unknown topic {t.topic!r} (not in the pack's blueprint)")
    if not t.front.strip():
        out.append("empty front")
    if not t.back.strip():
        out.append("empty back")
    return out

"""Reading the [[question]] and [[term]] entries of native item files into validated items,
with every problem located; and the collector of problems the native reader shares."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from cmqprep.domain.items import (
    LETTERS,
    Item,
    Question,
    TermCard,
    check_question,
    check_term,
    key_index,
    reflow,
)
from cmqprep.packs.errors import Problem

QUESTION_FIELDS = {"id", "topic", "level", "stem", "options", "key", "explanation", "reference"}
QUESTION_OPTIONAL = {"tags", "checked"}
TERM_FIELDS = {"id", "topic", "front", "back"}
TERM_OPTIONAL = {"reference", "tags", "checked"}
_CHECKED = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.first_seen: dict[str, str] = {}  # every id written so far -> its file

    def claim_id(self, item_id: object, file: str, line: int | None) -> bool:
        """Record an id; report it and return False if the pack already used it."""
        if not isinstance(item_id, str):
            return True
        if item_id in self.first_seen:
            self.add(file, f"duplicate id {item_id!r} (first used in {self.first_seen[item_id]})",
                     line, item_id)
            return False
        self.first_seen[item_id] = file
        return True

    def add(self, file: str, message: str, line: int | None = None, item: str | None = None) -> None:
        self.problems.append(Problem(file, message, line=line, item=item))


def expect(c: Collector, file: str, table: dict[str, Any], key: str, typ: type | tuple,
            where: str, line: int | None = None, item: str | None = None,
            required: bool = True) -> Any:
    if key not in table:
        if required:
            c.add(file, f"{where}missing field '{key}'", line, item)
        return None
    value = table[key]
    if isinstance(value, bool) and typ is int or not isinstance(value, typ):
        want = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        c.add(file, f"{where}field '{key}' must be {_article(want)}, not {type(value).__name__}",
              line, item)
        return None
    return value


def _article(name: str) -> str:
    names = {"str": "a string", "int": "an integer", "list": "a list", "dict": "a table"}
    return names.get(name, name)


def _common(entry: dict[str, Any], display: str, line: int | None, c: Collector,
            required: set[str], optional: set[str], kind: str) -> tuple[str | None, int]:
    raw_id = entry.get("id")
    iid = raw_id if isinstance(raw_id, str) else None
    before = len(c.problems)
    for key in sorted(set(entry) - required - optional):
        c.add(display, f"unknown field '{key}' in a {kind}", line, iid)
    if "checked" in entry:
        checked = entry["checked"]
        if isinstance(checked, date):
            pass
        elif not (isinstance(checked, str) and _CHECKED.match(checked)):
            c.add(display, "field 'checked' must be a date like \"2026-11-21\"", line, iid)
    return iid, before


def _str_tags(entry: dict[str, Any], display: str, line: int | None, iid: str | None,
              c: Collector) -> tuple[str, ...]:
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        c.add(display, "field 'tags' must be a list of strings", line, iid)
        return ()
    return tuple(tags)


_QUESTION_KEYS = QUESTION_FIELDS | QUESTION_OPTIONAL
_TERM_KEYS = TERM_FIELDS | TERM_OPTIONAL


def _plain_extras(entry: dict[str, Any]) -> tuple[str, ...] | None:
    """The tags of an entry whose optional fields are all well formed, else None."""
    checked = entry.get("checked")
    if not (checked is None or isinstance(checked, date)
            or type(checked) is str and _CHECKED.match(checked)):
        return None
    tags = entry.get("tags", [])
    if type(tags) is not list or not all(type(t) is str for t in tags):
        return None
    return tuple(tags)


# The common case first: an entry that passes every field check becomes its item directly;
# any other goes through the reading below, which reports each problem. Both give the same
# item, and this path is several times cheaper on a large pack.
def _plain_question(entry: dict[str, Any]) -> Question | None:
    if not QUESTION_FIELDS <= entry.keys() <= _QUESTION_KEYS:
        return None
    qid, topic, level, stem = entry["id"], entry["topic"], entry["level"], entry["stem"]
    options, key, explanation = entry["options"], entry["key"], entry["explanation"]
    reference = entry["reference"]
    if not (type(qid) is str and type(topic) is str and type(level) is str
            and type(stem) is str and type(key) is str and type(explanation) is str
            and type(reference) is str and type(options) is list
            and all(type(o) is str for o in options)):
        return None
    tags = _plain_extras(entry)
    index = key_index(key, LETTERS[: len(options)])
    if tags is None or index is None:
        return None
    return Question(qid, topic, level, reflow(stem), tuple(map(reflow, options)),
                    index, reflow(explanation), reflow(reference), tags,
                    str(entry.get("checked", "")))


def _plain_term(entry: dict[str, Any]) -> TermCard | None:
    if not TERM_FIELDS <= entry.keys() <= _TERM_KEYS:
        return None
    tid, topic, front, back = entry["id"], entry["topic"], entry["front"], entry["back"]
    reference = entry.get("reference", "")
    if not (type(tid) is str and type(topic) is str and type(front) is str
            and type(back) is str and type(reference) is str):
        return None
    tags = _plain_extras(entry)
    if tags is None:
        return None
    return TermCard(tid, topic, reflow(front), reflow(back), reflow(reference), tags,
                    str(entry.get("checked", "")))


def read_question(entry: dict[str, Any], display: str, line: int | None, topics: dict[str, str],
              c: Collector) -> Question | None:
    q = _plain_question(entry)
    if q is not None:
        return _checked(q, check_question(q, topics), display, line, c)
    iid, before = _common(entry, display, line, c, QUESTION_FIELDS, QUESTION_OPTIONAL, "question")
    get = lambda k, t, req=True: expect(c, display, entry, k, t, "", line, iid, req)  # noqa: E731
    qid, topic, level = get("id", str), get("topic", str), get("level", str)
    stem, options, key = get("stem", str), get("options", list), get("key", str)
    explanation, reference = get("explanation", str), get("reference", str)
    tags = _str_tags(entry, display, line, iid, c)
    answer = -1
    if isinstance(options, list):
        if not all(isinstance(o, str) for o in options):
            c.add(display, "every option must be a string", line, iid)
            options = None
    if isinstance(key, str):
        letters = LETTERS[: len(options)] if isinstance(options, list) else LETTERS
        index = key_index(key, letters)
        if index is not None:
            answer = index
        elif not letters:  # an empty options list: there is no range of letters to name
            c.add(display, f"key {key!r} given, but the question has no options", line, iid)
        else:
            c.add(display, f"key {key!r} is not among the options {letters[0]}-{letters[-1]}",
                  line, iid)
    if len(c.problems) > before:
        return None
    q = Question(qid, topic, level, reflow(stem), tuple(reflow(o) for o in options), answer,
                 reflow(explanation), reflow(reference), tags, str(entry.get("checked", "")))
    for msg in check_question(q, topics):
        c.add(display, msg, line, iid)
    return None if len(c.problems) > before else q


def read_term(entry: dict[str, Any], display: str, line: int | None, topics: dict[str, str],
          c: Collector) -> TermCard | None:
    t = _plain_term(entry)
    if t is not None:
        return _checked(t, check_term(t, topics), display, line, c)
    iid, before = _common(entry, display, line, c, TERM_FIELDS, TERM_OPTIONAL, "term")
    get = lambda k, t, req=True: expect(c, display, entry, k, t, "", line, iid, req)  # noqa: E731
    tid, topic, front, back = get("id", str), get("topic", str), get("front", str), get("back", str)
    reference = get("reference", str, False) or ""
    tags = _str_tags(entry, display, line, iid, c)
    if len(c.problems) > before:
        return None
    t = TermCard(tid, topic, reflow(front), reflow(back), reflow(reference), tags,
                 str(entry.get("checked", "")))
    for msg in check_term(t, topics):
        c.add(display, msg, line, iid)
    return None if len(c.problems) > before else t


def _checked(item: Item, problems: list[str], display: str, line: int | None,
             c: Collector) -> Item | None:
    for msg in problems:
        c.add(display, msg, line, item.id)
    return None if problems else item

"""GIFT (Moodle) import and export: one-right-answer multiple choice, plus cmqprep term cards.

The mapping is documented in docs/interchange.md. Readers return (Pack, warnings) or raise
PackError with every located problem.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from cmqprep.domain.blueprint import Blueprint
from cmqprep.domain.items import Question, reflow
from cmqprep.packs.errors import PackError, Problem, read_text
from cmqprep.packs.native import Pack
from cmqprep.packs.reading import (
    CONTROL,
    Builder,
    check_text_exportable,
    decode,
    flatten,
    header_pairs,
    load_blueprint,
)

_FORMAT_TAG = re.compile(r"\[(html|moodle|plain|markdown)\]")
_DIRECTIVE = re.compile(r"\[(id|tag|level|topic|checked):([^\]]*)\]|\[(term)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = re.compile(r"\s*(T|TRUE|F|FALSE)\s*(#.*)?", re.I | re.S)
_ESCAPE_PAIR = re.compile(r"\\.", re.S)
_UNESCAPE = re.compile(r"\\([~=#{}:\\n])")
_REFERENCE = re.compile(r"\s*reference\s*:(.*)", re.I | re.S)
LETTERS_ALL = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_HINT = "a '// [id:...]' comment line just before it"
TOPIC_HINT = ("put a '$CATEGORY:' line whose last part starts with a topic code (e.g. "
              "'$CATEGORY: CMQOE/I.A Organizational structures') before it, or a "
              "'// [topic:I.A]' line just before it")


def escape(text: str) -> str:
    """GIFT text: the special characters and backslashes escaped, line breaks as \\n."""
    out = text.replace("\\", "\\\\")
    for ch in "~=#{}:":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\n")


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _mask(text: str) -> str:
    """The text with every escape pair blanked out (same length), so searches skip them."""
    return _ESCAPE_PAIR.sub("\x00\x00", text)  # NUL never occurs: decode() refuses it


def _find(text: str, target: str, start: int = 0) -> int:
    """Index of the first `target` at or after `start` that is not escaped by a backslash."""
    return _mask(text).find(target, start)


def category_topic(path: str, topics: dict[str, str]) -> str | None:
    """The topic a $CATEGORY path names: the rightmost part that is, or starts with, a topic
    code (followed by a blank or punctuation other than '.'); the longest code wins."""
    parts = path.replace("//", "\x00").split("/")
    for part in reversed(parts):
        seg = part.replace("\x00", "/").strip()
        best = None
        for code in topics:
            if seg.startswith(code) and (len(seg) == len(code) or not
                                         (seg[len(code)].isalnum() or seg[len(code)] == ".")):
                if best is None or len(code) > len(best):
                    best = code
        if best is not None:
            return best
    return None


class _HtmlText(HTMLParser):
    """HTML to plain text: paragraphs and breaks kept, tags dropped, lost media noted."""

    LOST = {"img", "audio", "video", "object", "iframe", "embed", "math", "svg", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lost: set[str] = set()
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.LOST:
            self.lost.add(tag)
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                     "blockquote", "pre"):
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> tuple[str, set[str]]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [ln.strip() for ln in "".join(parser.out).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.lost


@dataclass
class _Directives:
    id: str | None = None
    topic: str | None = None
    level: str | None = None
    checked: str = ""
    reference: str | None = None
    term: bool = False
    tags: list[str] = field(default_factory=list)
    first_line: int | None = None


class _Reader:
    def __init__(self, b: Builder):
        self.b = b
        self.category: str | None = None  # topic of the current $CATEGORY ("" = bad category)

    def block(self, block: list[tuple[int, str]]) -> None:
        b = self.b
        d = _Directives()
        content = []
        for n, line in block:
            s = line.strip()
            if s.startswith("//"):
                self.comment(n, s[2:], d)
            else:
                content.append((n, line))
        if content and content[0][1].strip().startswith("$CATEGORY:"):
            n, line = content.pop(0)
            path = line.strip()[len("$CATEGORY:"):].strip()
            self.category = category_topic(path, b.topics)
            if self.category is None:
                self.category = ""
                b.error(f"category {path!r} names no topic code of the blueprint: end it with "
                        f"a topic, e.g. '$CATEGORY: CMQOE/I.A Organizational structures'", n)
        if not content:
            if d.first_line is not None:
                b.warn("these [..] directives are not followed by a question in the same "
                       "block (a blank line separates them): ignored", d.first_line)
            return
        try:
            self.question(content, d)
        except _Stop:
            pass

    def comment(self, n: int, text: str, d: _Directives) -> None:
        b = self.b
        pairs = header_pairs(text)
        if pairs is not None:
            for key, value in pairs:
                b.set_header(key, value, n)
            return
        m = _REFERENCE.match(text)
        if m:
            if d.reference is not None:
                b.error("a second 'reference:' line for one item", n)
            d.reference = re.sub(r"\\([\\n])", lambda x: "\n" if x.group(1) == "n" else "\\",
                                 m.group(1).strip())
            return
        for m in _DIRECTIVE.finditer(text):
            if d.first_line is None:
                d.first_line = n
            name, value = (m.group(1), m.group(2).strip()) if m.group(1) else ("term", "")
            if name == "tag":
                d.tags.append(value)
            elif name == "term":
                d.term = True
            elif getattr(d, name) not in (None, ""):
                b.error(f"[{name}:] given twice for one item", n)
            else:
                setattr(d, name, value)

    def question(self, content: list[tuple[int, str]], d: _Directives) -> None:
        nums = [n for n, _ in content]
        raw = "\n".join(line for _, line in content)

        breaks = [m.start() for m in re.finditer("\n", raw)]

        def line_at(off: int) -> int:  # bisect: a block may hold thousands of answers
            return nums[min(bisect_left(breaks, off), len(nums) - 1)]

        first = nums[0]
        self.where = (first, d.id)
        pos = len(raw) - len(raw.lstrip())
        title = None
        if raw.startswith("::", pos):
            end = _find(raw, "::", pos + 2)
            if end < 0:
                self.fail("the title opened with '::' is not closed with '::'", first)
            title, pos = raw[pos + 2:end], end + 2
        fmt = "moodle"
        rest = raw[pos:].lstrip()
        pos = len(raw) - len(rest)
        m = _FORMAT_TAG.match(rest)
        if m:
            fmt, pos = m.group(1), pos + m.end()
        opening = _find(raw, "{", pos)
        if opening < 0 or d.term:
            self.term(raw, pos, opening, title, fmt, d, line_at)
            return
        closing = _find(raw, "}", opening + 1)
        if closing < 0:
            self.fail("the answer block '{' is not closed with '}'", line_at(opening))
        inner = raw[opening + 1:closing]
        if _find(inner, "{") >= 0:
            self.fail("an unescaped '{' inside the answer block (write \\{)",
                      line_at(opening + 1 + _find(inner, "{")))
        stem_raw, after = raw[pos:opening], raw[closing + 1:]
        if _find(after, "{") >= 0:
            self.unsupported("more than one answer block (embedded-answer/cloze questions)",
                             line_at(closing + 1 + _find(after, "{")))
        for text, off in ((stem_raw, pos), (after, closing + 1)):
            if _find(text, "}") >= 0:
                self.fail("an unescaped '}' outside an answer block (write \\})",
                          line_at(off + _find(text, "}")))
        if after.strip():
            # "missing word": the answer block stands for a blank inside the sentence
            stem_raw = stem_raw.rstrip() + " _____ " + after.lstrip()
        stem = self.text(stem_raw, fmt, tag=False)
        options, key, feedback, general = self.answers(inner, fmt, lambda o: line_at(
            opening + 1 + o))
        explanation = "\n\n".join([general] * bool(general) + feedback)
        self.b.add_question(first, qid=d.id, topic=d.topic or self.category, level=d.level,
                            stem=stem, options=options, key=key, explanation=explanation,
                            reference=d.reference or "", tags=tuple(d.tags), checked=d.checked)

    def term(self, raw: str, pos: int, opening: int, title: str | None, fmt: str,
             d: _Directives, line_at) -> None:  # noqa: ANN001
        first = line_at(0)
        if not d.term:
            self.fail("no answer block {...}: descriptions are not questions (mark a term card "
                      "with '// [term]' and write it as ::front::back)", first)
        if opening >= 0:
            self.fail("a [term] card has no answer block: write it as ::front::back",
                      line_at(opening))
        if title is None:
            self.fail("a [term] card needs its front as the title: ::front::back", first)
        self.b.add_term(first, tid=d.id, topic=d.topic or self.category,
                        front=self.text(title, "plain", tag=False),
                        back=self.text(raw[pos:], fmt, tag=False), reference=d.reference or "",
                        tags=tuple(d.tags), checked=d.checked)

    def answers(self, inner: str, fmt: str, line_at) -> tuple[list[str], int, list[str], str]:  # noqa: ANN001
        general = ""
        g = _find(inner, "####")
        part = inner if g < 0 else inner[:g]
        if g >= 0:
            general = self.text(inner[g + 4:], fmt)
        ln = line_at(0)
        body = part.strip()
        marks = list(re.finditer(r"[=~]", _mask(part)))
        if not body:
            self.unsupported("essay questions ({})", ln)
        if body.startswith("#"):
            self.unsupported("numeric questions ({#...})", ln)
        if not any(m.group() == "~" for m in marks):
            if not marks:
                if _TRUE_FALSE.fullmatch(part):
                    self.unsupported("true/false questions", ln)
                self.fail("cannot read the answer block: start each option with = (the one "
                          "right answer) or ~ (a wrong answer)", ln)
            if "->" in part:
                self.unsupported("matching questions (=a -> b)", ln)
            self.unsupported("short-answer questions (only = answers)", ln)
        if len(marks) > len(LETTERS_ALL):
            self.fail(f"{len(marks)} options: a question has exactly four", ln)
        if part[:marks[0].start()].strip():
            self.fail("text before the first option (options start with = or ~)", ln)
        options, feedback, right = [], [], []
        ends = [m.start() for m in marks[1:]] + [len(part)]
        for m, end in zip(marks, ends):
            at = line_at(m.start())
            chunk = part[m.start() + 1:end].lstrip()
            correct = m.group() == "="
            w = _WEIGHT.match(chunk)
            if w:
                weight = float(w.group(1))
                if weight == 100:
                    correct = True
                elif not (weight == 0 and not correct):
                    self.unsupported(f"partial-credit weights (%{w.group(1)}%): mark the one "
                                     f"right answer with = and the others with ~", at)
                chunk = chunk[w.end():]
            if correct:
                right.append((len(options), at))
            h = _find(chunk, "#")
            option = self.text(chunk if h < 0 else chunk[:h], fmt)
            options.append(option)
            if h >= 0 and self.text(chunk[h + 1:], fmt):
                feedback.append(f"{option}: {self.text(chunk[h + 1:], fmt)}")
        if len(right) > 1:
            self.unsupported("more than one right answer", right[1][1])
        if not right:
            self.fail("no right answer: mark the key with =", ln)
        return options, right[0][0], feedback, general

    def text(self, raw: str, fmt: str, tag: bool = True) -> str:
        """Item text: physical line breaks reflowed, then escapes (\\n a hard break) decoded."""
        s = reflow(raw)
        if tag:
            m = _FORMAT_TAG.match(s)
            if m:
                fmt, s = m.group(1), s[m.end():]
        s = unescape(s)
        if fmt == "html":
            try:
                s, lost = html_to_text(s)
            except Exception:  # noqa: BLE001 - the parser is lenient; any failure is the file's
                self.fail("cannot read this HTML text", self.where[0])
            if lost:
                self.b.warn(f"HTML content dropped: {', '.join(sorted(lost))}", *self.where)
        if "@@PLUGINFILE@@" in s:
            self.b.warn("refers to an attached file (@@PLUGINFILE@@) that GIFT does not carry",
                        *self.where)
        return s.strip()

    def fail(self, message: str, line: int) -> None:
        self.b.error(message, line, self.where[1])
        raise _Stop

    def unsupported(self, what: str, line: int) -> None:
        self.fail(f"unsupported: {what}; cmqprep questions have exactly one right answer "
                  f"among four options", line)


class _Stop(Exception):
    """This item is abandoned (its problem is recorded); go on with the next block."""


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = [[]]
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            blocks[-1].append((n, line))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def parse(data: str | bytes, display: str = "<gift>", *,
          blueprint_from: Blueprint | str | Path | None = None, name: str = "",
          **overrides: str | None) -> tuple[Pack, list[Problem]]:
    """Read GIFT text (or bytes); returns (pack, warnings) or raises PackError."""
    text = decode(data, display)
    b = Builder(display, load_blueprint(blueprint_from), overrides, id_hint=ID_HINT,
                topic_hint=TOPIC_HINT)
    reader = _Reader(b)
    for block in _blocks(text):
        reader.where = (block[0][0], None)
        reader.block(block)
    return b.finish(name or Path(display).stem)


def read(path: str | Path, *, blueprint_from: Blueprint | str | Path | None = None,
         **overrides: str | None) -> tuple[Pack, list[Problem]]:
    path = Path(path)
    return parse(read_text(path, str(path)), str(path), blueprint_from=blueprint_from,
                 name=path.stem, **overrides)


# --- export --------------------------------------------------------------------------------

def _plain(text: str) -> str:
    """Escaped text that reads back unchanged even if it starts like a weight or format tag."""
    needs = text.startswith("%") or _FORMAT_TAG.match(text)
    return ("[plain]" if needs else "") + escape(text)


def _one_line(text: str) -> str:
    return flatten(CONTROL.sub(" ", text))


def dump(pack: Pack) -> str:
    """The pack as GIFT text that `parse` reads back to the same items (given its blueprint)."""
    problems = check_text_exportable(pack.items, f"{pack.manifest.id} (GIFT export)", "GIFT",
                                     "]")
    if problems:
        raise PackError(problems)
    m = pack.manifest
    out = ["// GIFT export written by cmqprep. Moodle ignores '//' lines; cmqprep reads the\n"
           "// [id:], [level:], [tag:], [term] and 'reference:' comments back.\n" +
           "".join(f"// cmqprep: {k} = {_one_line(v)}\n" for k, v in
                   (("id", m.id), ("version", m.version), ("title", m.title),
                    ("license", m.license), ("description", m.description)) if v).rstrip("\n")]
    topics = pack.blueprint.topic_codes()
    titles = {t.code: (a, t) for a in pack.blueprint.areas for t in a.topics}
    current, explicit = None, False
    for item in pack.items:
        if item.topic != current:
            current = item.topic
            seg = lambda s: _one_line(s).replace("/", "//")  # noqa: E731
            area, topic = titles.get(current, (None, None))
            path = "$course$/top/" + seg(m.title or m.id)
            if area is not None and topic is not None:
                path += f"/{seg(area.code + ' ' + area.title)}/{seg(topic.code + ' ' + topic.title)}"
            explicit = category_topic(path, topics) != current
            out.append(f"$CATEGORY: {path}")
        out.append(_item(item, explicit))
    return "\n\n".join(out) + "\n"


def _item(item, explicit_topic: bool) -> str:  # noqa: ANN001
    marks = [f"[id:{item.id}]"]
    if isinstance(item, Question):
        marks.append(f"[level:{item.level}]")
    else:
        marks.append("[term]")
    if explicit_topic:
        marks.append(f"[topic:{item.topic}]")
    marks += [f"[tag:{t}]" for t in item.tags]
    if item.checked:
        marks.append(f"[checked:{item.checked}]")
    lines = ["// " + " ".join(marks)]
    if item.reference:
        lines.append("// reference: " + item.reference.replace("\\", "\\\\").replace("\n", "\\n"))
    if isinstance(item, Question):
        lines.append(f"::{item.id}::[plain]{escape(item.stem)}{{")
        lines += [("=" if i == item.key else "~") + _plain(o) for i, o in enumerate(item.options)]
        lines.append("####" + _plain(item.explanation))
        lines.append("}")
    else:
        lines.append(f"::{escape(item.front)}::[plain]{escape(item.back)}")
    return "\n".join(lines)


def losses(pack: Pack) -> list[Problem]:
    where = f"{pack.manifest.id} (GIFT export)"
    out = [Problem(where, "the blueprint is not in the file: import it with the same "
                          "blueprint", severity="warning")]
    if any(i.kind == "term" for i in pack.items):
        out.append(Problem(where, "Moodle imports term cards as descriptions (cmqprep reads "
                                  "them back as term cards)", severity="warning"))
    return out

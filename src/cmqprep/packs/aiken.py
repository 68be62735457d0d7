"""Aiken (Moodle) import and export: a stem, lettered options and an ANSWER line per question.

Aiken holds no ids, topics, levels, explanations, references, tags or term cards. The reader
accepts cmqprep comment lines (an extension: `// cmqprep: topic = I.A`, `// [id:...]`) that
Moodle does not; the exporter writes plain Aiken that Moodle reads. See docs/interchange.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from cmqprep.domain.blueprint import Blueprint
from cmqprep.domain.items import LETTERS, Question, reflow
from cmqprep.packs.errors import PackError, Problem, read_text
from cmqprep.packs.native import Pack
from cmqprep.packs.reading import (
    Builder,
    check_text_exportable,
    decode,
    flatten,
    header_pairs,
    load_blueprint,
)

NO_EXPLANATION = "No explanation was given (imported from Aiken)."
OPTION = re.compile(r"([A-Z])([.)])(?:[ \t]+(.*))?")
_ANSWER = re.compile(r"ANSWER\s*:(.*)", re.I)
_DIRECTIVE = re.compile(r"\[(id|tag|level|topic|checked):([^\]]*)\]")
ID_HINT = "a '// [id:...]' line before it (a cmqprep extension to Aiken)"
TOPIC_HINT = ("Aiken has no topics: add '// cmqprep: topic = I.A' above the questions, or "
              "give the topic when importing")


class _Question:
    def __init__(self, line: int, meta: dict[str, object]):
        self.line = line
        self.meta = meta
        self.stem: list[str] = []
        self.stem_lines: list[int] = []
        self.last = line
        self.options: list[str] = []
        self.ok = True


def parse(data: str | bytes, display: str = "<aiken>", *,
          blueprint_from: Blueprint | str | Path | None = None, name: str = "",
          **overrides: str | None) -> tuple[Pack, list[Problem]]:
    """Read Aiken text (or bytes); returns (pack, warnings) or raises PackError."""
    text = decode(data, display)
    b = Builder(display, load_blueprint(blueprint_from), overrides, id_hint=ID_HINT,
                topic_hint=TOPIC_HINT, summary_ids=True)
    q: _Question | None = None
    meta: dict[str, object] = {}
    done = 0

    def close() -> None:
        nonlocal q
        if q is not None and q.ok:
            where = "the question" if q.options else "the question text"
            b.error(f"{where} starting here has no 'ANSWER: X' line (it ends at line "
                    f"{q.last})",
                    q.line, q.meta.get("id"))  # type: ignore[arg-type]
        q = None

    lines = text.split("\n")
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("//"):
            if q is not None and not q.options:
                close()
            _comment(b, line[2:], n, meta)
            continue
        option = OPTION.fullmatch(line)
        answer = _ANSWER.fullmatch(line)
        if q is not None and q.options and not (option or answer):
            if re.match(r"[A-Z][.)]\S", line):
                b.error("put a space after the option letter, as in 'A) text'", n,
                        q.meta.get("id"))  # type: ignore[arg-type]
                q.ok = False
                continue
            close()  # a new question begins: the previous one lacked its ANSWER
        if q is not None:
            q.last = n
        if q is None:
            if answer:
                b.error("an ANSWER line with no question before it", n)
                continue
            q, meta = _Question(n, meta), {}
            q.stem.append(line)
            q.stem_lines.append(n)
        elif answer and q.options:
            _finish(b, q, answer.group(1).strip(), n)
            done += q.ok
            q = None
        elif answer:
            b.error("ANSWER comes before any option (write options as 'A) text')", n,
                    q.meta.get("id"))  # type: ignore[arg-type]
            q = None
        elif option:
            expected = LETTERS_ALL[len(q.options)] if len(q.options) < 26 else "?"
            glued = q.stem_lines[-1] if not q.options and len(q.stem) > 1 and re.match(
                r"A[.)]\S", q.stem[-1]) else None
            if glued and q.ok:
                b.error("put a space after the option letter, as in 'A) text'", glued,
                        q.meta.get("id"))  # type: ignore[arg-type]
                q.ok = False
            elif option.group(1) != expected and q.ok:
                b.error(f"option letter {option.group(1)} is out of order (expected "
                        f"{expected})", n, q.meta.get("id"))  # type: ignore[arg-type]
                q.ok = False
            q.options.append(option.group(3) or "")
        else:
            q.stem.append(line)
            q.stem_lines.append(n)  # a multi-line stem: an extension (Moodle 4 reads it too)
    close()
    if done:
        b.warn(f"Aiken has no explanations: {done} question(s) got the placeholder "
               f"{NO_EXPLANATION!r}; write real explanations before studying")
    return b.finish(name or Path(display).stem)


LETTERS_ALL = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _comment(b: Builder, text: str, n: int, meta: dict[str, object]) -> None:
    pairs = header_pairs(text)
    if pairs is not None:
        for key, value in pairs:
            b.set_header(key, value, n)
        return
    for m in _DIRECTIVE.finditer(text):
        key, value = m.group(1), m.group(2).strip()
        if key == "tag":
            meta.setdefault("tags", [])
            meta["tags"].append(value)  # type: ignore[union-attr]
        elif key in meta:
            b.error(f"[{key}:] given twice for one question", n)
        else:
            meta[key] = value


def _finish(b: Builder, q: _Question, answer: str, n: int) -> None:
    iid = q.meta.get("id")
    letters = LETTERS_ALL[: len(q.options)]
    if not q.ok:
        return
    if re.fullmatch(r"[A-Z](\s*[,;&]\s*[A-Z])+|[A-Z]{2,}", answer):
        b.error(f"more than one answer ({answer}): cmqprep questions have exactly one right "
                f"answer", n, iid)  # type: ignore[arg-type]
        return
    if len(answer) > 1 and answer[0] in LETTERS_ALL and not answer[1].isalnum():
        b.error(f"text after the answer letter: {answer[1:].strip()!r}", n, iid)  # type: ignore[arg-type]
        return
    if len(answer) != 1 or answer.upper() not in letters:
        b.error(f"answer {answer!r} is not one of the options {letters[0]}-{letters[-1]}", n,
                iid)  # type: ignore[arg-type]
        return
    meta = q.meta
    b.add_question(q.line, qid=iid, topic=meta.get("topic"),  # type: ignore[arg-type]
                   level=meta.get("level"), stem=reflow("\n".join(q.stem)),  # type: ignore[arg-type]
                   options=[reflow(o) for o in q.options], key=letters.index(answer.upper()),
                   explanation=NO_EXPLANATION, tags=tuple(meta.get("tags", ())),  # type: ignore[arg-type]
                   checked=str(meta.get("checked", "")))


def read(path: str | Path, *, blueprint_from: Blueprint | str | Path | None = None,
         **overrides: str | None) -> tuple[Pack, list[Problem]]:
    path = Path(path)
    return parse(read_text(path, str(path)), str(path), blueprint_from=blueprint_from,
                 name=path.stem, **overrides)


# --- export --------------------------------------------------------------------------------

def unrepresentable(q: Question) -> str | None:
    """Why Aiken cannot hold this question's text (None when it can)."""
    stem = flatten(q.stem)
    if OPTION.fullmatch(stem) or re.match(r"[A-Z][.)][ \t]", stem) or _ANSWER.fullmatch(stem):
        return "its stem starts like an option or ANSWER line"
    if stem.startswith("//"):
        return "its stem starts with '//' (a comment to cmqprep)"
    return None


def dump(pack: Pack) -> str:
    """Plain Aiken (no comments, so Moodle reads it): questions only, text on one line each."""
    where = f"{pack.manifest.id} (Aiken export)"
    questions = [i for i in pack.items if isinstance(i, Question)]
    problems = check_text_exportable(questions, where, "Aiken", None)
    for q in questions:
        why = unrepresentable(q)
        if why:
            problems.append(Problem(where, f"cannot be written in Aiken: {why}; reword it or "
                                           f"export GIFT or CSV", item=q.id))
    if problems:
        raise PackError(problems)
    if not questions:
        raise PackError([Problem(where, "the pack has no questions (Aiken holds no term cards)")])
    blocks = []
    for q in questions:
        opts = [f"{LETTERS[i]}. {flatten(o)}" for i, o in enumerate(q.options)]
        blocks.append("\n".join([flatten(q.stem), *opts, f"ANSWER: {q.key_letter}"]))
    return "\n\n".join(blocks) + "\n"


def losses(pack: Pack) -> list[Problem]:
    where = f"{pack.manifest.id} (Aiken export)"
    out = [Problem(where, "Aiken keeps only stems, options and keys: ids, topics, levels, "
                          "explanations, references and tags are lost, and line breaks become "
                          "spaces", severity="warning")]
    terms = sum(1 for i in pack.items if i.kind == "term")
    if terms:
        out.append(Problem(where, f"{terms} term card(s) left out (Aiken has none)",
                           severity="warning"))
    return out

"""Scaffolding a new native pack (`cmqprep pack new`): a manifest, a blueprint and examples."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from cmqprep.domain.blueprint import level_rank
from cmqprep.packs.errors import PackError, Problem, read_text
from cmqprep.packs.native import MANIFEST, load_pack, parse_manifest

_BLUEPRINT_START = re.compile(r"^\s*\[\s*blueprint\s*\]\s*(#.*)?$")
_BLUEPRINT_NAME = re.compile(r"blueprint\s*[\].]")
EXAMPLE_FILE = "examples.toml"


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are valid TOML, except that DEL must be escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def blueprint_section(text: str, display: str) -> tuple[str, int]:
    """The `[blueprint]` table of a manifest, with its `[[blueprint.areas]]`, as written, and
    the line it starts on."""
    lines = text.split("\n")
    start = next((n for n, line in enumerate(lines) if _BLUEPRINT_START.match(line)), None)
    if start is None:
        raise PackError([Problem(display, "no [blueprint] table here: give a pack.toml or a TOML "
                                          "file with a [blueprint] table and its areas")])
    end = next((n for n in range(start + 1, len(lines)) if _other_table(lines[n])), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n", start + 1


def _other_table(line: str) -> bool:
    """A table header that is not the blueprint or one of its sub-tables."""
    text = line.strip()
    return text.startswith("[") and not _BLUEPRINT_NAME.match(text.lstrip("[ \t"))


def manifest_text(pack_id: str, title: str, license: str, blueprint: str) -> str:
    return (f"# cmqprep pack manifest: see docs/pack-format.md and docs/authoring.md.\n"
            f"# Item files are the other *.toml files in this folder.\n"
            f"format = 1\n"
            f"id = {toml_string(pack_id)}\n"
            f"version = \"1.0.0\"  # raise it for every release you hand out\n"
            f"title = {toml_string(title)}\n"
            f"license = {toml_string(license)}\n"
            f"description = \"\"\n\n{blueprint}")


def examples_text(topic: str, topic_level: str) -> str:
    level = "apply" if level_rank(topic_level) >= level_rank("apply") else topic_level
    return f'''\
# Example items: one question and one term card. Replace them with your own, keep the ids
# stable once learners use the pack (progress is matched by id), and run
# `cmqprep pack validate .` after each edit.

[[question]]
id = "example-q001"
topic = {toml_string(topic)}
level = {toml_string(level)}
stem = """
An instructor wants a question that checks whether candidates can use a concept rather than
recall its definition. Which kind of stem serves that purpose?"""
options = [
  "A short scenario that asks what the candidate should do next",
  "A definition followed by a request to name the term that it defines",
  "A sentence from a standard with one word left out for the candidate to fill in",
  "A list of four terms with a request to pick the correctly spelled one",
]
key = "A"
explanation = """
A scenario makes the candidate apply the concept to a situation, which is what apply-level exam
items do. Naming a defined term is tempting because it looks rigorous, but it only tests recall,
and the other two stems test reading rather than knowledge."""
reference = "Multiple-choice item-writing guidelines (Haladyna, Downing and Rodriguez 2002)"
tags = ["example"]

[[term]]
id = "example-t001"
topic = {toml_string(topic)}
front = "Distractor"
back = """
A plausible but wrong option of a multiple-choice question, written to attract candidates who
hold a common misconception."""
reference = "Multiple-choice item-writing guidelines (Haladyna, Downing and Rodriguez 2002)"
tags = ["example"]
'''


def scaffold(dest: Path, pack_id: str, title: str, blueprint_file: Path,
             license: str = "CC-BY-4.0") -> list[Path]:
    """Write a new, valid native pack into `dest` (which must be missing or empty).

    The blueprint is copied as written (comments included) from `blueprint_file`; it is checked
    before anything is written, so a bad blueprint leaves no half-made folder behind."""
    display = str(blueprint_file)
    section, first_line = blueprint_section(read_text(blueprint_file, display), display)
    manifest = manifest_text(pack_id, title, license, section)
    offset = first_line - manifest.count("\n", 0, manifest.index(section)) - 1
    try:
        _, blueprint, _ = parse_manifest(manifest, display)
    except PackError as exc:  # point at the author's file, not at the manifest we composed
        raise PackError([replace(p, line=p.line + offset if p.line else None)
                         for p in exc.problems]) from None
    first = blueprint.areas[0].topics[0]
    dest.mkdir(parents=True, exist_ok=True)
    written = [dest / MANIFEST, dest / EXAMPLE_FILE]
    written[0].write_text(manifest, encoding="utf-8")
    written[1].write_text(examples_text(first.code, first.level), encoding="utf-8")
    load_pack(dest)  # what we wrote must validate; a failure here is a bug, not user error
    return written

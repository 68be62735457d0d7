"""The native pack format: valid packs load; every problem is reported with its location."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmqprep.packs.errors import MAX_FILE_BYTES, PackError
from cmqprep.packs.native import load_pack
from tests.conftest import SMALL_MANIFEST, question, term, write_pack

ROOT = Path(__file__).resolve().parents[1]


def problems(path: Path) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(path)
    return [str(p) for p in info.value.problems]


def test_valid_pack_loads_items_in_file_order(mini_pack: Path) -> None:
    pack = load_pack(mini_pack)
    assert pack.manifest.id == "mini" and pack.manifest.version == "1.0.0"
    assert [i.id for i in pack.items] == ["q1", "q2", "q3", "t1", "t2"]
    q2 = pack.items[1]
    assert q2.key == 1 and q2.key_letter == "B"
    assert pack.blueprint.scored == 3 and [a.code for a in pack.blueprint.areas] == ["I", "II"]


def test_broken_pack_reports_each_problem_with_file_and_line(tmp_path: Path) -> None:
    items = "\n".join([question("q1"), question("q2", key="E"), question("q1", key="B")])
    root = write_pack(tmp_path / "p", items)
    out = problems(root)
    f = str(root / "items.toml")
    # each question takes 15 lines: q2's header is on line 16, the second q1 on line 31
    assert f"{f}:16: item q2: key 'E' is not among the options A-D" in out
    assert any(p.startswith(f"{f}:31: item q1: duplicate id 'q1'") for p in out)
    assert len(out) == 2


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", question("q1") + '\n[[question]]\nid = "q2\n')
    out = problems(root)
    assert len(out) == 1
    assert out[0].startswith(f"{root / 'items.toml'}:17: TOML syntax error")


def test_every_item_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = [
        question("a1", topic="IX.Z"),
        question("a2", options=["same", "Same", "other", "fourth"]),
        question("a3").replace('explanation = "Because it is. The others are not."',
                               'explanation = ""'),
        question("a4").replace('level = "apply"', "level = 3"),
        question("a5").replace('key = "A"', 'key = "A"\nexplaination = "typo"'),
        question("a6", options=["one", "two", "three"]),
        term("a7").replace('back = "Definition of a7."', ""),
    ]
    root = write_pack(tmp_path / "p", "\n".join(bad))
    text = "\n".join(problems(root))
    assert "item a1: unknown topic 'IX.Z'" in text
    assert "item a2: duplicate option 'same'" in text
    assert "item a3: missing explanation" in text
    assert "item a4: field 'level' must be a string, not int" in text
    assert "item a5: unknown field 'explaination'" in text
    assert "item a6: a question needs exactly 4 options, found 3" in text
    assert "item a7: missing field 'back'" in text


def test_manifest_problems_are_located(tmp_path: Path) -> None:
    manifest = SMALL_MANIFEST.replace('version = "1.0.0"', 'version = "one"').replace(
        "scored = 3\n", "scored = 4\n", 1)
    root = write_pack(tmp_path / "p", question("q1"), manifest)
    out = problems(root)
    assert f"{root / 'pack.toml'}:3: version 'one' must be numbers separated by dots, e.g. 1.2.0" \
        in out
    assert any("area counts add up to 3, but scored is 4" in p for p in out)


def test_a_blueprint_of_the_wrong_type_names_its_line(tmp_path: Path) -> None:
    manifest = SMALL_MANIFEST[:SMALL_MANIFEST.index("[blueprint]")] + "blueprint = 5\n"
    root = write_pack(tmp_path / "p", question("q1"), manifest)
    assert problems(root) == [f"{root / 'pack.toml'}:7: field 'blueprint' must be a table, not int"]
    manifest = SMALL_MANIFEST[:SMALL_MANIFEST.index("[[blueprint.areas]]")] + "areas = 3\n"
    root = write_pack(tmp_path / "q", question("q1"), manifest)
    assert any("blueprint: field 'areas' must be a list" in p for p in problems(root))


def test_item_files_outside_the_pack_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.toml").write_text(question("x1"))
    manifest = 'items = ["../secret.toml"]\n' + SMALL_MANIFEST
    root = write_pack(tmp_path / "p", question("q1"), manifest)
    out = problems(root)
    assert any("lies outside the pack directory" in p for p in out)


def test_invalid_utf8_nul_and_oversized_files(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", question("q1"))
    (root / "items.toml").write_bytes(question("q1").encode() + b"\n# caf\xe9\n")
    assert any("items.toml:16: not valid UTF-8" in p for p in problems(root))
    (root / "items.toml").write_bytes(b"\x00\x01binary")
    assert any("NUL byte" in p for p in problems(root))
    with open(root / "items.toml", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    assert any("the limit is" in p for p in problems(root))


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", "")
    (root / "items.toml").write_bytes(b"\xef\xbb\xbf" + question("q1").replace("\n", "\r\n").encode())
    assert [i.id for i in load_pack(root).items] == ["q1"]


def test_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    out = problems(tmp_path)
    assert out == [f"{tmp_path}: no pack.toml here: a native pack is a directory with a pack.toml "
                   f"manifest"]


def test_hard_wrapped_text_is_reflowed_but_tables_survive(tmp_path: Path) -> None:
    stem = '"""\\nA project has\\nthree activities:\\nActivity  Days\\nA  3\\nB  4\\nWhat is\\nthe total?"""'
    item = question("q1").replace('stem = "What is the answer to question q1?"', f"stem = {stem}")
    root = write_pack(tmp_path / "p", item.replace("\\n", "\n"))
    assert load_pack(root).items[0].stem == ("A project has three activities:\nActivity  Days\n"
                                             "A  3\nB  4\nWhat is the total?")


def test_bundled_bank_validates() -> None:
    pack = load_pack(ROOT / "question_bank" / "cmqoe")
    assert pack.manifest.id == "cmqoe"
    assert [a.scored for a in pack.blueprint.areas] == [28, 25, 32, 28, 25, 15, 12]
    assert (pack.blueprint.scored, pack.blueprint.unscored, pack.blueprint.minutes) == (165, 15, 258)


def test_documented_example_pack_validates(tmp_path: Path) -> None:
    """docs/pack-format.md contains a complete small pack; it must stay valid."""
    import re

    doc = (ROOT / "docs" / "pack-format.md").read_text()
    blocks = dict(re.findall(r"```toml\n# file: (\S+)\n(.*?)```", doc, re.S))
    assert "pack.toml" in blocks and len(blocks) >= 2
    for name, body in blocks.items():
        (tmp_path / name).write_text(body)
    pack = load_pack(tmp_path)
    assert {i.kind for i in pack.items} == {"question", "term"}

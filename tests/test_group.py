"""The study group: adding members' exports, replacing and refusing, removing, the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmqprep.cli import main
from cmqprep.domain.progress import ProgressError, encode, iso_ms, parse_iso
from cmqprep.domain.scheduling import to_ms
from cmqprep.services.group import add_members, compare, group_view, remove_member
from cmqprep.services.progress import export_progress
from tests.conftest import START
from tests.test_progress import dump, study

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "group"
MEMBERS = [FIXTURES / n for n in ("ana.json", "ben.json", "chloe.json")]


def cli(tmp_path: Path, *args: str) -> int:
    return main(["--data-dir", str(tmp_path / "data"), *args])


def test_fixture_group_show_json_matches_the_expected_output(tmp_path, capsys) -> None:
    assert cli(tmp_path, "group", "add", *map(str, MEMBERS)) == 0
    out = capsys.readouterr().out
    assert "'Ana Lima' (a1a1a1a1) added" in out and "'Chloé' (c3c3c3c3) added" in out
    assert cli(tmp_path, "group", "show", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    expected = json.loads((FIXTURES / "expected-show.json").read_text(encoding="utf-8"))
    assert shown == expected
    # Figures checked by hand: area III has two members (Chloé's export lacks it) with
    # readiness 0.35 and 0.55; with weight 0.4 the group stands to lose 0.4 x 0.55 = 0.22.
    iii = next(a for a in shown["areas"] if a["code"] == "III")
    assert (iii["members"], iii["mean_readiness"], iii["points_lost"]) == (2, 0.45, 0.22)
    assert shown["weakest"] == ["III", "II", "I"]
    ana = next(m for m in shown["members"] if m["name"] == "Ana Lima")
    assert ana["latest_exam"]["percent"] == 66.0  # the later of two exams; the quiz is no exam


def test_fixture_files_are_what_the_generator_writes(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", FIXTURES / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)  # type: ignore[union-attr]
    for name, doc in gen.MEMBERS.items():
        reviews = gen.CHLOE_REVIEWS if doc["kind"] == "full" else None
        assert (FIXTURES / name).read_text(encoding="utf-8") == "".join(encode(doc, reviews))


def test_group_show_text_table(tmp_path, capsys) -> None:
    assert cli(tmp_path, "group", "show") == 0
    assert "No group members yet" in capsys.readouterr().out
    cli(tmp_path, "group", "add", *map(str, MEMBERS))
    capsys.readouterr()
    assert cli(tmp_path, "group", "show") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Study group: 3 member(s)"
    assert any(line.startswith("Ana Lima") and "66% (99/150, 2026-02-27)" in line
               for line in lines)
    ana_cells = next(line for line in lines if line.startswith("Ana Lima") and "/" in line
                     and "%" not in line)
    assert ana_cells.split()[-3:] == ["62/30", "45/10", "55/20"]
    assert lines[-1].endswith("III Quality tools; II Strategy; I Leadership")


def _variant(tmp_path: Path, source: Path, name: str, **changes: object) -> Path:
    doc = json.loads(source.read_text(encoding="utf-8"))
    reviews = doc.pop("reviews", None)
    doc.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(doc | ({"reviews": reviews} if reviews is not None else {})),
                    encoding="utf-8")
    return path


def test_newer_export_replaces_older_is_refused_same_is_unchanged(ctx, tmp_path) -> None:
    now = ctx.clock()
    add_members(ctx.engine, [MEMBERS[0]], now)
    newer = _variant(tmp_path, MEMBERS[0], "newer.json", exported_at="2026-03-02T09:00:00.000Z",
                     member={"id": "a1" * 16, "name": "Ana L."})
    older = _variant(tmp_path, MEMBERS[0], "older.json", exported_at="2026-02-01T09:00:00.000Z")
    assert [a.outcome for a in add_members(ctx.engine, [newer], now)] == ["replaced"]
    view = group_view(ctx.engine)
    assert [m.name for m in view.members] == ["Ana L."]
    assert view.members[0].exported_ms == parse_iso("2026-03-02T09:00:00.000Z")
    before = dump(ctx)
    with pytest.raises(ProgressError, match="older than the one in the group"):
        add_members(ctx.engine, [MEMBERS[1], older], now)  # the whole batch is refused
    assert dump(ctx) == before
    assert [a.outcome for a in add_members(ctx.engine, [newer], now)] == ["unchanged"]


def test_an_invalid_file_in_a_batch_adds_nothing(ctx, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "cmqprep-progress", "schema_version": 1, "kind": "summary"',
                   encoding="utf-8")
    before = dump(ctx)
    with pytest.raises(ProgressError, match="truncated"):
        add_members(ctx.engine, [MEMBERS[0], bad], ctx.clock())
    assert dump(ctx) == before
    assert cli(tmp_path, "group", "add", str(MEMBERS[0]), str(bad)) == 1
    assert f"cmqprep: {bad}: the JSON ends early" in capsys.readouterr().err


def test_a_full_export_is_stored_as_its_summary_only(ctx) -> None:
    add_members(ctx.engine, [MEMBERS[2]], ctx.clock())
    stored = dump(ctx)[2]
    assert len(stored) == 1 and "reviews" not in json.loads(stored[0][3])
    assert json.loads(stored[0][3])["member"]["name"] == "Chloé"


def test_remove_by_name_or_id_prefix_and_ambiguity(ctx, tmp_path) -> None:
    twin = _variant(tmp_path, MEMBERS[1], "twin.json", member={"id": "a1" + "0" * 30,
                                                                "name": "Ana Lima"})
    add_members(ctx.engine, [*MEMBERS, twin], ctx.clock())
    with pytest.raises(ProgressError, match="matches 2 members"):
        remove_member(ctx.engine, "Ana Lima")
    with pytest.raises(ProgressError, match="matches 2 members"):
        remove_member(ctx.engine, "a1")
    with pytest.raises(ProgressError, match="no group member named 'Zed'"):
        remove_member(ctx.engine, "Zed")
    assert remove_member(ctx.engine, "a1a1") == ("a1" * 16, "Ana Lima")
    assert remove_member(ctx.engine, "[bold]Ben[/]") == ("b2" * 16, "[bold]Ben[/]")
    assert sorted(m.member_id[:2] for m in group_view(ctx.engine).members) == ["a1", "c3"]


def test_group_commands_never_touch_the_learners_own_data(ctx, tmp_path) -> None:
    study(ctx, 8)
    own = tmp_path / "me.json"
    export_progress(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock(), own)
    reviews, schedule, _ = dump(ctx)
    add_members(ctx.engine, [*MEMBERS, own], ctx.clock())  # one's own export may join too
    group_view(ctx.engine)
    remove_member(ctx.engine, "Chloé")
    after_reviews, after_schedule, group = dump(ctx)
    assert (after_reviews, after_schedule) == (reviews, schedule)
    assert len(group) == 3


def test_cli_escapes_control_characters_in_member_names(tmp_path, capsys) -> None:
    evil = _variant(tmp_path, MEMBERS[1], "evil.json",
                    member={"id": "e" * 32, "name": "Eve\x1b[2J\u202e"})
    assert cli(tmp_path, "group", "add", str(evil)) == 0
    assert cli(tmp_path, "group", "show") == 0
    assert cli(tmp_path, "group", "show", "--json") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "Eve\\x1b[2J\\u202e" in out


def test_compare_handles_members_without_areas_or_exams() -> None:
    summary = {"areas": [], "attempts": [], "activity": {"reviews": 0, "first_review_ms": None,
                                                        "last_review_ms": None,
                                                        "streak_days": 0}}
    view = compare([("f" * 32, "New", to_ms(START), summary)])
    assert view.areas == [] and view.weakest == []
    assert view.to_json()["members"][0]["latest_exam"] is None
    assert view.to_json()["members"][0]["exported_at"] == iso_ms(view.members[0].exported_ms)


"""The command line as a user runs it: exit codes, located errors, JSON output, no half-installs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cmqprep import __version__
from cmqprep.cli import main
from tests.conftest import SMALL_MANIFEST, question, write_pack

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmqprep", *args], capture_output=True, text=True,
                          cwd=ROOT)


def test_version_and_help_list_every_command() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"cmqprep {__version__}"
    help_text = run("--help").stdout
    for command in ("study", "pack", "stats", "profile"):
        assert f"    {command} " in help_text


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["pack", "frobnicate"])
    assert info.value.code == 2


def test_bundled_bank_validates_from_the_cli() -> None:
    out = run("pack", "validate", "question_bank/cmqoe")
    assert out.returncode == 0, out.stderr
    assert "ok: cmqoe" in out.stdout


def test_stats_json_lists_every_area_of_the_bundled_bank(tmp_path: Path) -> None:
    out = run("--data-dir", str(tmp_path), "stats", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["profile"] == "default" and data["reviews_total"] == 0
    assert data["due_now"] == 0 and data["new_available"] == 20
    codes = [a["code"] for a in data["areas"]]
    assert codes == ["I", "II", "III", "IV", "V", "VI", "VII"]
    assert all(a["items"] >= 15 and a["seen"] == 0 and a["title"] for a in data["areas"])


def db_snapshot(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        rows = []
        for table in ("packs", "areas", "topics", "items", "reviews", "schedule", "profiles"):
            rows.append((table, con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))
        rows.append(("items-hash", con.execute("SELECT group_concat(content_hash) FROM items")
                     .fetchone()[0]))
        return rows
    finally:
        con.close()


def test_broken_pack_fails_validation_and_install_changes_nothing(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "stats"]) == 0
    before = db_snapshot(data / "cmqprep.sqlite")
    broken = write_pack(tmp_path / "broken", "\n".join([
        question("q1", key="E"), question("q1", key="B"), "[[question]\nid = 'x'\n"]))
    capsys.readouterr()
    assert main(["pack", "validate", str(broken)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{broken / 'items.toml'}:31: TOML syntax error: Expected ']]' at the end of an "
                   f"array declaration (column 11)"]
    fixed_syntax = write_pack(tmp_path / "broken2", "\n".join([question("q1", key="E"),
                                                               question("q1", key="B")]))
    assert main(["--data-dir", str(data), "pack", "install", str(fixed_syntax)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].endswith("items.toml:1: item q1: key 'E' is not among the options A-D")
    assert "duplicate id 'q1'" in err[1]
    assert db_snapshot(data / "cmqprep.sqlite") == before


def test_install_list_and_update_summary(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    pack = write_pack(tmp_path / "p", question("q1") + "\n" + question("q2"),
                      SMALL_MANIFEST.replace('id = "mini"', 'id = "class-a"'))
    assert main(["--data-dir", str(data), "pack", "install", str(pack)]) == 0
    assert "Installed class-a 1.0.0" in capsys.readouterr().out
    v2 = write_pack(tmp_path / "p2", question("q1") + "\n" + question("q3"),
                    SMALL_MANIFEST.replace('id = "mini"', 'id = "class-a"').replace("1.0.0", "1.1.0"))
    assert main(["--data-dir", str(data), "pack", "install", str(v2)]) == 0
    out = capsys.readouterr().out
    assert "Updated class-a 1.0.0 -> 1.1.0" in out
    assert "added 1, changed 0, unchanged 1, retired 1" in out
    assert main(["--data-dir", str(data), "pack", "install", str(pack)]) == 1  # older, no tty
    assert "older" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "pack", "list", "--json"]) == 0
    listed = {p["key"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["class-a"]["version"] == "1.1.0" and listed["class-a"]["questions"] == 2
    assert "cmqoe" in listed


def test_profiles(tmp_path: Path, capsys) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert main([*d, "profile", "create", "alex"]) == 0
    assert main([*d, "profile", "create", "alex"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*d, "profile", "list"]) == 0
    assert capsys.readouterr().out.split() == ["alex", "*", "default"]
    assert main([*d, "--profile", "nobody", "stats"]) == 1
    assert "no profile named 'nobody'" in capsys.readouterr().err


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path, capsys) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code = main(["--data-dir", str(ro), "stats"])
    finally:
        ro.chmod(0o700)
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    assert code == 1 and "cannot create the database" in capsys.readouterr().err


def test_pack_show_prints_topics_and_the_area_by_level_table(tmp_path: Path, capsys) -> None:
    assert main(["pack", "show", str(ROOT / "question_bank" / "cmqoe")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "ASQ CMQ/OE, 2019 Body of Knowledge: 165 scored + 15 unscored questions, 258 minutes"
    assert any(line.split()[:1] == ["I.C.2"] for line in out)
    table = out[out.index(next(line for line in out if line.startswith("Area "))):]
    assert [row.split()[0] for row in table[1:]] == ["I", "II", "III", "IV", "V", "VI", "VII", "All"]
    total = int(table[-1].split()[-2])
    assert total >= 720
    # the installed copy reports the same figures
    assert main(["--data-dir", str(tmp_path), "pack", "show", "cmqoe"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == out[1:]
    assert main(["--data-dir", str(tmp_path), "pack", "show", "nope"]) == 1


def test_settings_are_shown_changed_and_validated(tmp_path: Path, capsys) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert main([*d, "settings"]) == 0
    assert "new_per_day        20" in capsys.readouterr().out
    assert main([*d, "settings", "set", "new_per_day", "35"]) == 0
    assert main([*d, "settings", "set", "day_start_hour", "25"]) == 1
    assert "day_start_hour must be 0-23" in capsys.readouterr().err
    assert main([*d, "settings", "set", "colour", "red"]) == 1
    assert main([*d, "stats", "--json"]) == 0
    capsys.readouterr()
    assert main([*d, "settings", "show"]) == 0
    out = capsys.readouterr().out
    assert "new_per_day        35" in out and "day_start_hour     4" in out
    assert main([*d, "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_available"] == 35


def test_only_the_default_profile_is_created_implicitly(tmp_path: Path, capsys) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert main([*d, "--profile", "sam", "pack", "list"]) == 1
    assert "no profile named 'sam'" in capsys.readouterr().err
    assert main([*d, "--profile", "sam", "profile", "create", "sam"]) == 0
    assert main([*d, "--profile", "sam", "stats"]) == 0


def test_study_an_unknown_area_is_refused_before_the_app_opens(tmp_path: Path, capsys) -> None:
    assert main(["--data-dir", str(tmp_path), "study", "--area", "IX"]) == 1
    assert "unknown area 'IX'; areas are I, II, III, IV, V, VI, VII" in capsys.readouterr().err


def test_one_bad_stored_setting_keeps_the_others() -> None:
    from cmqprep.config import Settings, settings_from_rows

    s = settings_from_rows({"new_per_day": "35", "day_start_hour": "99", "timezone": '"UTC"'})
    assert s == Settings(new_per_day=35, timezone="UTC")

"""Importing a 100k-item pack (TOML files -> load_pack -> install_pack) and a 1M-review progress
file (export_progress -> import_progress) into a fresh database; time and peak memory.

Each import runs in a fresh process so its peak resident memory (VmHWM) is its own.
Floor: plain sqlite3 executemany of the same rows (items; reviews) in one transaction.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import CACHE, NOW, Table, peak_rss_mb, working_copy
from _synth import N_ITEMS, PACK_VERSION, db_path, ensure_db, make_items, make_pack

RUNS = 2
ITEMS_PER_FILE = 10_000  # files stay under the 16 MiB per-file limit


def write_pack_dir() -> Path:
    root = CACHE / f"pack-{N_ITEMS}"
    if (root / "pack.toml").exists():
        return root
    from cmqprep.domain.items import LETTERS, Question
    from cmqprep.paths import bundled_bank

    root.mkdir(parents=True, exist_ok=True)
    manifest = (bundled_bank() / "pack.toml").read_text()
    # same id and version as the synthetic database, so imported reviews match its items
    manifest = re.sub(r'(?m)^version = ".*"$', f'version = "{PACK_VERSION}"', manifest, count=1)
    (root / "pack.toml").write_text(manifest)
    items = make_items(N_ITEMS)
    q = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731  (a TOML basic string)
    for n in range(0, len(items), ITEMS_PER_FILE):
        out = []
        for it in items[n:n + ITEMS_PER_FILE]:
            if isinstance(it, Question):
                out.append(f"[[question]]\nid = {q(it.id)}\ntopic = {q(it.topic)}\n"
                           f"level = {q(it.level)}\nstem = {q(it.stem)}\noptions = ["
                           + ", ".join(q(o) for o in it.options) + "]\n"
                           f"key = {q(LETTERS[it.key])}\nexplanation = {q(it.explanation)}\n"
                           f"reference = {q(it.reference)}\n")
            else:
                out.append(f"[[term]]\nid = {q(it.id)}\ntopic = {q(it.topic)}\n"
                           f"front = {q(it.front)}\nback = {q(it.back)}\n")
        (root / f"items-{n // ITEMS_PER_FILE:02d}.toml").write_text("\n".join(out))
    return root


def child(kind: str, arg: str, db: str) -> None:
    """Run one import in this (fresh) process; print seconds and peak RSS as JSON."""
    from cmqprep.db.engine import open_database
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services.profiles import ensure_profile

    engine = open_database(f"sqlite:///{db}", Path(db).parent, NOW)
    pid = ensure_profile(engine, "default", to_ms(NOW))
    before = peak_rss_mb()
    t = time.perf_counter()
    cpu = time.process_time()
    detail = {}
    if kind == "pack":
        from cmqprep.packs.native import load_pack
        from cmqprep.services.packs import install_pack

        pack = load_pack(arg)
        detail["parse_s"] = time.perf_counter() - t
        install_pack(engine, pack, to_ms(NOW))
    else:
        from cmqprep.config import Settings
        from cmqprep.services.progress import import_progress

        rep = import_progress(engine, pid, Settings(timezone="UTC"), Path(arg), NOW)
        detail["report"] = str(rep)[:200]
    print(json.dumps({"s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu,
                      "peak_mb": peak_rss_mb(), "start_mb": before, **detail}))


def export_file() -> Path:
    out = CACHE / f"progress-{db_path().stem}.json"
    if out.exists():
        return out
    import random

    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context
    from cmqprep.services.progress import export_progress

    path = working_copy(ensure_db())
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", lambda: NOW, random.Random(1))
    t = time.perf_counter()
    export_progress(ctx.engine, ctx.profile_id, ctx.settings, NOW, out)
    print(f"  exported 1M reviews in {time.perf_counter() - t:.1f} s "
          f"({out.stat().st_size / 1e6:.0f} MB)")
    ctx.engine.dispose()
    return out


def run_child(kind: str, arg: Path, db: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(arg), str(db)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor_items(db: Path) -> float:
    """sqlite3 executemany of 100k item rows (values prepared beforehand), one transaction."""
    import sqlite3

    from cmqprep.services.pack_rows import COLUMNS, item_row
    from cmqprep.services.packs import _positions

    pack = make_pack(make_items(N_ITEMS))
    pos, topics = _positions(pack), pack.blueprint.topic_codes()
    rows = [item_row(it, 1, topics[it.topic], pos[it.id]) for it in pack.items]
    con = sqlite3.connect(db)
    con.execute("INSERT INTO packs (id, key, version, title, license, description, installed_ms, "
                "exam_name, exam_scored, exam_unscored, exam_minutes) "
                "VALUES (1, 'x', '1', 't', '', '', 0, '', 0, 0, 0)")
    t = time.perf_counter()
    with con:
        con.executemany(f"INSERT INTO items ({', '.join(COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    con.close()
    return time.perf_counter() - t


def floor_reviews(db: Path, export: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of what the progress import must do in SQLite, in plain sqlite3:
    insert the rows in chunks in one transaction, then read them in rebuild order."""
    import sqlite3

    from cmqprep.services.progress import BULK_CACHE_KIB

    doc = json.loads(export.read_bytes())
    rows = [(r["id"], 1, r["pack"], r["item"], r["at_ms"], r["rating"], r["duration_ms"],
             r["source"], r["state_before"], r["chosen"], r["correct"]) for r in doc["reviews"]]
    del doc
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    t, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN IMMEDIATE")
    for i in range(0, len(rows), 5000):
        con.executemany("INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, "
                        "rating, duration_ms, source, state_before, chosen, correct) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows[i:i + 5000])
    cur = con.execute("SELECT pack_key, item_key, reviewed_ms, rating, id FROM reviews "
                      "WHERE profile_id = 1 ORDER BY pack_key, item_key, reviewed_ms")
    while cur.fetchmany(10_000):
        pass
    con.execute("COMMIT")
    out = time.perf_counter() - t, time.process_time() - cpu
    con.close()
    return out


def fresh_db(tag: str) -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix=f"cmqbench-{tag}-"))
    return d / "cmqprep.sqlite"


def main() -> None:
    ensure_db()
    pack_dir = write_pack_dir()
    progress = export_file()
    table = Table("import_big", "imports into a fresh database: 100k-item pack, 1M-review progress")
    packs, imports, progress_floors = [], [], []
    for _ in range(RUNS):
        packs.append(run_child("pack", pack_dir, fresh_db("pack")))
    for _ in range(RUNS):
        db = fresh_db("progress")
        run_child("pack", pack_dir, db)  # the reviews' pack is installed first
        floor_db_progress = fresh_db("progress-floor")
        shutil.copyfile(db, floor_db_progress)  # the same state, for the sqlite3 floor
        imports.append(run_child("progress", progress, db))
        progress_floors.append(floor_reviews(floor_db_progress, progress))
    floor_db = fresh_db("floor")
    run_child("pack", pack_dir, floor_db.with_name("x.sqlite"))  # creates the schema elsewhere
    from cmqprep.db.engine import open_database

    open_database(f"sqlite:///{floor_db}", floor_db.parent, NOW).dispose()
    fl = floor_items(floor_db)
    table.add("pack: load_pack (parse 100k items from TOML)", [p["parse_s"] * 1000 for p in packs],
              unit="ms")
    table.add("pack: load_pack + install_pack", [p["s"] * 1000 for p in packs], [fl * 1000],
              "<= 6 s together")
    table.add("pack: peak RSS", [p["peak_mb"] for p in packs], unit="MB", target="<= 250 MB")
    table.add("progress: import_progress (1M reviews)", [p["s"] * 1000 for p in imports],
              [f[0] * 1000 for f in progress_floors], target="<= 6 s together")
    table.add("progress: import_progress, CPU time", [p["cpu_s"] * 1000 for p in imports],
              [f[1] * 1000 for f in progress_floors])
    table.add("progress: peak RSS", [p["peak_mb"] for p in imports], unit="MB", target="<= 250 MB")
    table.note(f"progress file: {progress.stat().st_size / 1e6:.0f} MB; {RUNS} runs each, one "
               f"fresh process per run. Floor: sqlite3 executemany of the prepared item rows.")
    table.note("Progress floor: plain sqlite3 in the same database state, one transaction: "
               "executemany of the 1M review rows (prepared beforehand, cache_size as the "
               "import), then reading them back in (pack, item, time) order, which the "
               "schedule rebuild needs.")
    table.note(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table.note(f"import report: {imports[-1].get('report', '')}")
    table.emit()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()

"""Installing a large pack: reading (parse + validation) and installing a 100k-item native pack,
each phase timed, peak memory, against tomllib alone and a plain sqlite3 floor; and the same
items as one CSV, GIFT or Aiken file per 10,000 items (the 16 MiB per-file limit keeps a
100k-item bank out of one such file), to compare the formats per item.

Every measured run is a fresh process, so its peak resident memory (VmHWM) is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CACHE, NOW, Table, peak_rss_mb, rss_mb
from _synth import N_ITEMS, make_items, make_pack
from import_big import write_pack_dir

RUNS = 3
PART = 10_000  # items per CSV/GIFT/Aiken file


def child(kind: str, arg: str, db: str) -> None:
    """One measured run in this fresh process; prints a JSON line."""
    if kind == "tomllib":  # what reading the item files cost before the fast reader
        import tomllib

        t, cpu = time.perf_counter(), time.process_time()
        for f in sorted(Path(arg).glob("items-*.toml")):
            tomllib.loads(f.read_text(encoding="utf-8"))
        print(json.dumps({"s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu,
                          "peak_mb": peak_rss_mb()}))
        return
    from cmqprep.db.engine import open_database
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.packs.formats import load_any
    from cmqprep.services.packs import install_pack

    engine = open_database(f"sqlite:///{db}", Path(db).parent, NOW)
    start_mb = rss_mb()
    cpu = time.process_time()
    t = time.perf_counter()
    # Aiken has no topics: its items take the one given, as `pack install --topic` does
    pack, _ = load_any(arg, kind, **({"topic": "I.A"} if kind == "aiken" else {}))
    parsed = time.perf_counter()
    install_pack(engine, pack, to_ms(NOW))
    done = time.perf_counter()
    print(json.dumps({"parse_s": parsed - t, "install_s": done - parsed, "s": done - t,
                      "cpu_s": time.process_time() - cpu,
                      "items": len(pack.items), "start_mb": start_mb,
                      "peak_mb": peak_rss_mb()}))


def run_child(kind: str, arg: Path) -> dict:
    db = Path(tempfile.mkdtemp(prefix="cmqbench-pack-")) / "cmqprep.sqlite"
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(arg), str(db)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def floor() -> float:
    """sqlite3 executemany of the item rows (values prepared beforehand), one transaction."""
    import sqlite3

    from cmqprep.db.engine import open_database
    from cmqprep.services.pack_rows import COLUMNS, item_row
    from cmqprep.services.packs import _positions

    pack = make_pack(make_items(N_ITEMS))
    pos, topics = _positions(pack), pack.blueprint.topic_codes()
    rows = [item_row(it, 1, topics[it.topic], pos[it.id]) for it in pack.items]
    db = Path(tempfile.mkdtemp(prefix="cmqbench-floor-")) / "cmqprep.sqlite"
    open_database(f"sqlite:///{db}", db.parent, NOW).dispose()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO packs (id, key, version, title, license, description, installed_ms, "
                "exam_name, exam_scored, exam_unscored, exam_minutes) "
                "VALUES (1, 'x', '1', 't', '', '', 0, '', 0, 0, 0)")
    con.commit()
    t = time.perf_counter()
    with con:
        con.executemany(f"INSERT INTO items ({', '.join(COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    con.close()
    return time.perf_counter() - t


def part_files() -> dict[str, Path]:
    """The first 10,000 items as one file of each interchange format (written once)."""
    from cmqprep.packs.formats import export_text

    out = {}
    items = make_items(N_ITEMS)[:PART]
    pack = make_pack(items)
    for fmt, suffix in (("csv", "csv"), ("gift", "gift"), ("aiken", "aiken")):
        path = CACHE / f"pack-part-{PART}.{suffix}"
        if not path.exists():
            path.write_text(export_text(pack, fmt), encoding="utf-8")
        out[fmt] = path
    return out


def main() -> None:
    pack_dir = write_pack_dir()
    parts = part_files()
    load_before = os.getloadavg()[0]
    table = Table("pack_install", f"installing a {N_ITEMS // 1000}k-item pack into a fresh "
                                  "database (load_pack + install_pack)")
    native = [run_child("native", pack_dir) for _ in range(RUNS)]
    toml = [run_child("tomllib", pack_dir) for _ in range(RUNS)]
    fl = floor()
    table.add("native: read (parse + validate)", [r["parse_s"] * 1000 for r in native])
    table.add("native: install_pack", [r["install_s"] * 1000 for r in native], [fl * 1000])
    table.add("native: read + install", [r["s"] * 1000 for r in native], [fl * 1000],
              "<= 2.5 s")
    table.add("native: read + install, CPU time of the process",
              [r["cpu_s"] * 1000 for r in native])
    table.add("native: peak RSS", [r["peak_mb"] for r in native], unit="MB", target="<= 150 MB")
    table.add("(tomllib.loads of the same files alone)", [r["s"] * 1000 for r in toml])
    table.add("(same, CPU time)", [r["cpu_s"] * 1000 for r in toml])
    for fmt, path in parts.items():
        runs = [run_child(fmt, path) for _ in range(RUNS)]
        table.add(f"{fmt}: read + install, {PART // 1000}k items (one file)",
                  [r["s"] * 1000 for r in runs])
        table.add(f"{fmt}: peak RSS, {PART // 1000}k items", [r["peak_mb"] for r in runs],
                  unit="MB")
    table.note(f"{RUNS} runs each, one fresh process per run; start RSS (after imports and "
               f"opening the database) about {native[0]['start_mb']:.0f} MB. Floor: sqlite3 "
               f"executemany of the prepared item rows into the same schema (triggers and "
               f"indexes included).")
    table.note(f"load average (1 min): {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at "
               f"the end, on {os.cpu_count()} CPUs (compare runs by the ratio to the floor).")
    table.emit()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()

"""Launch -> home screen interactive, as a fresh process, with a warm file cache.

What is measured: `python -c` that does what the `cmqprep` entry point does (cli.main with no
command: parse arguments, open the database, profile and settings, build the app) and runs the
app headless; the child reports the instant the home screen has mounted, computed its counts
and been painted once (call_after_refresh from HomeScreen.on_mount). The time is taken from
just before the parent starts the process, so it includes interpreter start-up and every
import. Runs are repeated after two warm-up runs (file cache warm, the day's automatic backup
already made). Floor: a fresh `python -c` that opens the database with sqlite3 and runs the
home-count queries.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _common import ROOT, Table, working_copy
from _synth import ensure_db

RUNS = 12

CHILD = r"""
import sys, time
sys.path.insert(0, {src!r})
import cmqprep.cli as cli
import cmqprep.ui.screens.home as home
import textual.app

_mount = home.HomeScreen.on_mount
def on_mount(self):
    _mount(self)
    self.call_after_refresh(lambda: (print(repr(time.time()), flush=True), self.app.exit()))
home.HomeScreen.on_mount = on_mount
_run = textual.app.App.run
textual.app.App.run = lambda self, **kw: _run(self, headless=True, **kw)
sys.exit(cli.main(["--db", {url!r}, "--data-dir", {data!r}]))
"""

FLOOR = r"""
import sqlite3, time
con = sqlite3.connect({path!r})
for code in [r[0] for r in con.execute("SELECT code FROM areas")]:
    con.execute("SELECT count(*) FROM items WHERE retired = 0 AND area = ?", (code,)).fetchall()
    con.execute("SELECT count(*) FROM schedule WHERE profile_id = 1 AND area = ?", (code,)).fetchall()
    con.execute("SELECT count(*) FROM schedule WHERE profile_id = 1 AND area = ? AND suspended = 0 "
                "AND state IN (1, 2, 3) AND due_ms < 1772500000000", (code,)).fetchall()
con.execute("SELECT count(*) FROM reviews").fetchall()
print(repr(time.time()))
"""

IMPORTS = r"""
import time; t = time.perf_counter()
import sys; sys.path.insert(0, {src!r})
import cmqprep.cli, cmqprep.commands.common
t1 = time.perf_counter()
import sqlalchemy, cmqprep.services.context, cmqprep.services.stats
t2 = time.perf_counter()
import textual.app, cmqprep.ui.app, cmqprep.ui.screens.home
t3 = time.perf_counter()
import cmqprep.services.study, cmqprep.ui.screens.study
t4 = time.perf_counter()
print((t1 - t) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t4 - t3) * 1000)
"""


def timed(code: str, env: dict) -> float:
    t = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(out.stderr[-3000:] or out.stdout[-3000:])
    return (float(out.stdout.strip().splitlines()[-1]) - t) * 1000


def main() -> None:
    path = working_copy(ensure_db())
    env = dict(os.environ, CMQPREP_DATA_DIR=str(path.parent))
    code = CHILD.format(src=str(ROOT / "src"), url=f"sqlite:///{path}", data=str(path.parent))
    floor_code = FLOOR.format(path=str(path))
    for _ in range(2):
        timed(code, env)
    runs, floors = [], []
    for _ in range(RUNS):
        runs.append(timed(code, env))
        floors.append(timed(floor_code, env))
    parts = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", IMPORTS.format(src=str(ROOT / "src"))],
                             capture_output=True, text=True, check=True)
        parts.append([float(x) for x in out.stdout.split()])
    bare = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append((time.perf_counter() - t) * 1000)
    table = Table("launch", "launch -> home screen painted (fresh process, warm cache, 100k items)")
    table.add("cmqprep (cli.main, headless) to home painted", runs, floors, "<= 300 ms")
    table.add("  python -c pass (interpreter start and exit)", bare)
    for i, label in enumerate(("import cmqprep.cli (argparse only)",
                               "import sqlalchemy + services (context, stats)",
                               "import textual + ui.app + home screen",
                               "import study service + study screen (not on the launch path)")):
        table.add(f"  {label}", [p[i] for p in parts])
    table.note("floor: fresh python, sqlite3, the home-count query shapes, no UI.")
    table.emit()


if __name__ == "__main__":
    main()

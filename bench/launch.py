"""Launch -> home screen interactive, as a fresh process, with a warm file cache.

What is measured: `python -c` that does what the `cmqprep` entry point does (cli.main with no
command: parse arguments, open the database, profile and settings, build the app) and runs the
app headless; the child reports the instant the home screen has mounted, computed its counts
and been painted once (call_after_refresh from HomeScreen.on_mount), then the instant the
readiness line is filled in by its worker (after the engine has opened in the background).
The time is taken from just before the parent starts the process, so it includes interpreter
start-up and every import. Runs are repeated after two warm-up runs (file cache warm, the
database migrated, the day's automatic backup already made). Floor: a fresh `python -c` that
opens the database with sqlite3 and runs the home-count statements of services/counts.py.
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
    self.call_after_refresh(lambda: print(repr(time.time()), "fast" * (not self.ctx.engine_ready),
                                          time.process_time(), flush=True))
home.HomeScreen.on_mount = on_mount
_show = home.HomeScreen._show_readiness
def _show_readiness(self, *a):
    _show(self, *a)
    print(repr(time.time()), flush=True)
    self.app.exit()
home.HomeScreen._show_readiness = _show_readiness
_run = textual.app.App.run
textual.app.App.run = lambda self, **kw: _run(self, headless=True, **kw)
sys.exit(cli.main(["--db", {url!r}, "--data-dir", {data!r}]))
"""

FLOOR = r"""
import sqlite3, sys, time
sys.path.insert(0, {src!r})
con = sqlite3.connect({path!r})
from cmqprep.services import counts as q  # SQL text only (imports config and domain.scheduling)
con.execute(q.AREAS).fetchall()
con.execute(q.LIVE_ITEMS).fetchall()
con.execute(q.SCHEDULE_ROWS, (1,)).fetchall()
for code in [r[0] for r in con.execute("SELECT code FROM areas")]:
    con.execute(q.DUE, (1, code, 1772500000000)).fetchall()
con.execute(q.RETIRED, (1772500000000, 1)).fetchall()
con.execute(q.NEW_TODAY, (1, 1772420000000)).fetchall()
con.execute(q.REVIEWS_TODAY, (1, 1772420000000)).fetchall()
print(repr(time.time()))
"""

# The same kind of screen with no cmqprep at all: what Textual itself costs to paint.
BARE_TEXTUAL = r"""
import time
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("summary")
        yield DataTable()
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(lambda: (print(repr(time.time()), flush=True), self.exit()))

Bare().run(headless=True)
"""

IMPORTS = r"""
import time; t = time.perf_counter()
import sys; sys.path.insert(0, {src!r})
import cmqprep.cli, cmqprep.commands.common
t1 = time.perf_counter()
import textual.app, cmqprep.ui.app, cmqprep.ui.screens.home, cmqprep.services.launch
t2 = time.perf_counter()
import sqlalchemy, cmqprep.db.engine, cmqprep.services.stats, cmqprep.services.readiness
t3 = time.perf_counter()
import cmqprep.services.study, cmqprep.ui.screens.study
t4 = time.perf_counter()
print((t1 - t) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t4 - t3) * 1000)
"""


def timed(code: str, env: dict) -> list[float]:
    """Milliseconds from the start to each instant the child prints (one per line)."""
    t = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(out.stderr[-3000:] or out.stdout[-3000:])
    lines = [ln.split() for ln in out.stdout.strip().splitlines()]
    if len(lines) > 1 and lines[0][1] != "fast":
        raise SystemExit("the launch did not take the fast path: " + out.stdout[-500:])
    if len(lines) > 1:  # the CPU time the process had used when the home screen was painted
        lines.append([str(t + float(lines[0][2]))])
    return [(float(ln[0]) - t) * 1000 for ln in lines]


def main() -> None:
    path = working_copy(ensure_db())
    env = dict(os.environ, CMQPREP_DATA_DIR=str(path.parent))
    code = CHILD.format(src=str(ROOT / "src"), url=f"sqlite:///{path}", data=str(path.parent))
    floor_code = FLOOR.format(path=str(path), src=str(ROOT / "src"))
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], capture_output=True, env=env)
    runs, ready, cpu, floors, textual_only = [], [], [], [], []
    for _ in range(RUNS):
        textual_only.append(timed(BARE_TEXTUAL, env)[0])
        painted, filled, used = timed(code, env)
        runs.append(painted)
        ready.append(filled)
        cpu.append(used)
        floors.append(timed(floor_code, env)[0])
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
    table.add("  CPU time the process used up to that paint (less sensitive to load)", cpu)
    table.add("  a bare Textual app (Header, Static, DataTable, Footer) to its first paint",
              textual_only)
    table.add("  then the readiness line filled in (worker, after the engine opened)", ready)
    table.add("  python -c pass (interpreter start and exit)", bare)
    for i, label in enumerate(("import cmqprep.cli (argparse only)",
                               "import textual + ui.app + home screen + launch (sqlite3 only)",
                               "import sqlalchemy + engine + stats + readiness (background)",
                               "import study service + study screen (not on the launch path)")):
        table.add(f"  {label}", [p[i] for p in parts])
    table.note("floor: fresh python, sqlite3, the home-count statements, no UI. The bare "
               "Textual row is the floor with a UI: no cmqprep code at all.")
    table.note(f"load average {os.getloadavg()[0]:.2f} (2 CPUs shared with other work)")
    table.emit()


if __name__ == "__main__":
    main()

"""Memory while studying at 100k items / 1M reviews: resident set size of a fresh process that
opens the database, runs the TUI headless (Pilot) and studies 300 cards by key presses.

The working copy is opened once by a throwaway process first (schema migration to HEAD and the
day's automatic backup), so the measured process sees what a learner's second launch of the
day sees: a one-off migration imports Alembic (about 11 MB) and is not the steady state.

Floor: a fresh python process running the same number of answer/next-card statement rounds
through plain sqlite3 (no SQLAlchemy, no Textual). Also shown: what the imports alone cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from _common import ROOT, Table, working_copy
from _synth import ensure_db

CARDS = 300

CHILD = r"""
import asyncio, json, random, sys
from dataclasses import replace
from datetime import timedelta
sys.path.insert(0, {bench!r})
from _common import NOW, rss_mb, peak_rss_mb
from cmqprep.db.engine import default_url
from cmqprep.services.context import open_context
from cmqprep.ui.app import make_app

class Clock:
    now = NOW
    def __call__(self):
        return self.now

clock = Clock()
from pathlib import Path
ctx = open_context(Path({data!r}), {url!r}, "default", clock, random.Random(1))
ctx.settings = replace(ctx.settings, reviews_per_day=99999)
samples = {{}}

async def main():
    app = make_app(ctx, start=("study", None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        samples["opened"] = rss_mb()
        await app.workers.wait_for_complete()  # the home screen's report, in a worker thread
        await pilot.pause()
        screen = app.screen
        samples["start"] = rss_mb()
        for n in range({cards}):
            if n and n % 100 == 0:
                samples[n] = rss_mb()
            card = screen.card
            if card is None:
                break
            clock.now += timedelta(seconds=8)
            if card.kind == "question":
                await pilot.press("abcd"[card.answer], "enter")
            else:
                await pilot.press("space", "3")
        await pilot.pause()
        samples["end"] = rss_mb()

asyncio.run(main())
samples["peak"] = peak_rss_mb()
print(json.dumps(samples))
"""

FLOOR = r"""
import json, sqlite3, sys, uuid
sys.path.insert(0, {bench!r})
from _common import rss_mb, peak_rss_mb
con = sqlite3.connect({path!r}, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL"); con.execute("PRAGMA synchronous=NORMAL")
now = 1772463600000
for n in range({cards}):
    con.execute("BEGIN")
    row = con.execute("SELECT s.item_id FROM schedule s WHERE s.profile_id = 1 AND s.suspended = 0 "
                      "AND s.state = 2 AND s.due_ms <= ? ORDER BY s.due_ms LIMIT 2", (now,)).fetchone()
    con.execute("SELECT * FROM items WHERE id = ?", (row[0],)).fetchone()
    con.execute("COMMIT")
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, rating, "
                "duration_ms, source, state_before) VALUES (?, 1, 'k', 'i', ?, 3, 1, 'study', 2)",
                (uuid.uuid4().hex, now))
    con.execute("UPDATE schedule SET due_ms = ? WHERE profile_id = 1 AND item_id = ?",
                (now + 9 * 86400000, row[0]))
    con.execute("COMMIT")
print(json.dumps({{"end": rss_mb(), "peak": peak_rss_mb()}}))
"""


PREPARE = r"""
import random, sys
sys.path.insert(0, {bench!r})
from pathlib import Path
from _common import NOW
from cmqprep.services.context import open_context
ctx = open_context(Path({data!r}), {url!r}, "default", lambda: NOW, random.Random(1))
ctx.engine.dispose()
print("{{}}")
"""

IMPORTS = r"""
import json, sys
sys.path.insert(0, {bench!r})
from _common import rss_mb
import textual.app, sqlalchemy.orm, fsrs
print(json.dumps({{"end": rss_mb()}}))
"""


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(ROOT))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    db = ensure_db()
    bench = str(ROOT / "bench")
    load_before = os.getloadavg()
    runs, floors, imports = [], [], []
    for _ in range(3):
        path = working_copy(db)
        try:
            url = f"sqlite:///{path}"
            run(PREPARE.format(bench=bench, data=str(path.parent), url=url))
            runs.append(run(CHILD.format(bench=bench, data=str(path.parent), url=url,
                                         cards=CARDS)))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
        path = working_copy(db)
        try:
            floors.append(run(FLOOR.format(bench=bench, path=str(path), cards=CARDS)))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
        imports.append(run(IMPORTS.format(bench=bench)))
    table = Table("study_memory", f"memory while studying {CARDS} cards in the TUI (100k items)")
    table.add("RSS when the study screen opened", [r["opened"] for r in runs],
              [i["end"] for i in imports], unit="MB", target="<= 80 MB")
    table.add("RSS once the home screen's report is done", [r["start"] for r in runs],
              unit="MB", target="<= 80 MB")
    table.add(f"RSS after {CARDS} cards", [r["end"] for r in runs], [f["end"] for f in floors],
              unit="MB", target="<= 80 MB")
    table.add("peak RSS (VmHWM)", [r["peak"] for r in runs], [f["peak"] for f in floors],
              unit="MB", target="<= 80 MB")
    growth = [(r["end"] - r["100"]) / (CARDS - 100) * 100 for r in runs if "100" in r]
    if growth:
        table.add("growth per 100 cards (cards 100 to the end)", growth, unit="MB",
                  target="flat")
    load_after = os.getloadavg()
    table.note("3 fresh processes each, on a working copy already opened once (migrated, daily")
    table.note("backup made). Floor of the first row: python importing textual.app,")
    table.note("sqlalchemy.orm and fsrs only; of the others: python + sqlite3 doing the same")
    table.note("rounds, no UI.")
    table.note(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    table.emit()


if __name__ == "__main__":
    main()

"""Memory while studying at 100k items / 1M reviews: resident set size of a fresh process that
opens the database, runs the TUI headless (Pilot) and studies 300 cards by key presses.

Floor: a fresh python process running the same number of answer/next-card statement rounds
through plain sqlite3 (no SQLAlchemy, no Textual).
"""

from __future__ import annotations

import json
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
        screen = app.screen
        samples["start"] = rss_mb()
        for n in range({cards}):
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
print(json.dumps({{"start": samples["start"], "end": samples["end"], "peak": peak_rss_mb()}}))
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


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(ROOT))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    db = ensure_db()
    runs, floors = [], []
    for _ in range(3):
        path = working_copy(db)
        runs.append(run(CHILD.format(bench=str(ROOT / "bench"), data=str(path.parent),
                                     url=f"sqlite:///{path}", cards=CARDS)))
        floors.append(run(FLOOR.format(bench=str(ROOT / "bench"), path=str(working_copy(db)),
                                       cards=CARDS)))
    table = Table("study_memory", f"memory while studying {CARDS} cards in the TUI (100k items)")
    table.add("RSS after the study screen opened", [r["start"] for r in runs], unit="MB",
              target="<= 80 MB")
    table.add(f"RSS after {CARDS} cards", [r["end"] for r in runs], [f["end"] for f in floors],
              unit="MB", target="<= 80 MB")
    table.add("peak RSS (VmHWM)", [r["peak"] for r in runs], [f["peak"] for f in floors],
              unit="MB", target="<= 80 MB")
    table.note("3 fresh processes each; floor: python + sqlite3 doing the same rounds, no UI.")
    table.emit()


if __name__ == "__main__":
    main()

"""Home-screen counts (items, seen, due and new per area; today's reviews) at 100k items.

Rows: home_counts() through the engine (what `cmqprep stats` and the home screen after launch
use), the same read through the launch path's plain sqlite3 connection, and the counting
queries used on databases without the counter triggers (the path before migration 0004).
Floor: the same statements as services/counts.py through plain sqlite3, no Python work around
them, same process and file.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time

from _common import NOW, Table, fixed_clock, time_calls, working_copy
from _synth import ensure_db

REPEAT = 60


def floor(path, pid: int, codes: list[str], end: int, start: int) -> list[float]:  # type: ignore[no-untyped-def]
    from cmqprep.services import counts as q

    con = sqlite3.connect(path)

    def run() -> None:
        con.execute("BEGIN")
        con.execute(q.AREAS).fetchall()
        con.execute(q.LIVE_ITEMS).fetchall()
        con.execute(q.SCHEDULE_ROWS, (pid,)).fetchall()
        for c in codes:
            con.execute(q.DUE, (pid, c, end)).fetchone()
        con.execute(q.RETIRED, (end, pid)).fetchall()
        con.execute(q.NEW_TODAY, (pid, start)).fetchone()
        con.execute(q.REVIEWS_TODAY, (pid, start)).fetchone()
        con.execute("COMMIT")

    out = time_calls(run, REPEAT)
    con.close()
    return out


def main() -> None:
    from cmqprep.db.engine import default_url
    from cmqprep.domain.scheduling import day_start, next_day_start, to_ms
    from cmqprep.services.context import open_context
    from cmqprep.services.counts import sqlite_home_counts
    from cmqprep.services.stats import counted_home_counts, home_counts

    db = ensure_db()
    path = working_copy(db)
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", fixed_clock, random.Random(1))
    pid, s = ctx.profile_id, ctx.settings
    t = time.perf_counter()
    first = home_counts(ctx.engine, pid, "default", s, NOW, with_total=False)
    first_ms = (time.perf_counter() - t) * 1000
    screen = time_calls(lambda: home_counts(ctx.engine, pid, "default", s, NOW,
                                            with_total=False), REPEAT)
    with_total = time_calls(lambda: home_counts(ctx.engine, pid, "default", s, NOW), REPEAT)
    reader = sqlite3.connect(path, isolation_level=None)
    raw = time_calls(lambda: sqlite_home_counts(reader, pid, "default", s, NOW,
                                                with_total=False), REPEAT)
    reader.close()
    counted = time_calls(lambda: counted_home_counts(ctx.engine, pid, "default", s, NOW),
                         max(10, REPEAT // 4))
    assert counted_home_counts(ctx.engine, pid, "default", s, NOW, with_total=False) == first
    tz = s.tz()
    start = to_ms(day_start(NOW, tz, s.day_start_hour))
    end = to_ms(next_day_start(NOW, tz, s.day_start_hour))
    codes = [a.code for a in first.areas]
    table = Table("home_counts", "home-screen counts (100k items, 79k seen, 1M reviews)")
    table.add("home_counts() as the home screen asks (no log total), engine", screen,
              floor(path, pid, codes, end, start), "<= 5 ms")
    table.add("  the same through the launch path's sqlite3 connection", raw)
    table.add("  home_counts() with the whole log's total (cmqprep stats)", with_total)
    table.add("  counting queries (databases without the counter triggers)", counted)
    table.add("home_counts(), first call in the process", None, single=first_ms, target="<= 5 ms")
    table.note(f"due today {first.due_now:,}, new available {first.new_available}, reviews today "
               f"{first.reviews_today:,}; load average {os.getloadavg()[0]:.2f}")
    table.note("per area: " + ", ".join(f"{a.code} {a.items}/{a.seen}/{a.due}/{a.new}"
                                        for a in first.areas) + " (items/seen/due/new)")
    table.note("floor: the statements of services/counts.py through plain sqlite3 (counter rows, "
               "a due range per area, retired-item probes, today's reviews).")
    table.emit()
    ctx.engine.dispose()


if __name__ == "__main__":
    main()

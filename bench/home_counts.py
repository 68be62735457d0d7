"""Home-screen counts (items, seen, due and new per area; today's reviews) at 100k items.

Floor: the same query shapes through plain sqlite3 on the same file, same process.
"""

from __future__ import annotations

import random
import sqlite3
import time

from _common import NOW, Table, fixed_clock, time_calls, working_copy
from _synth import ensure_db

REPEAT = 60


def floor(path, pid: int, codes: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(path)
    now = int(NOW.timestamp() * 1000)
    start, end = now - 11 * 3_600_000, now + 13 * 3_600_000
    one = lambda sql, *a: con.execute(sql, a).fetchone()[0]  # noqa: E731

    def run() -> None:
        con.execute("BEGIN")
        con.execute("SELECT a.code, a.title, a.scored FROM areas a JOIN packs p ON p.id = a.pack_id "
                    "ORDER BY p.installed_ms, p.id, a.position").fetchall()
        for c in codes:
            one("SELECT count(*) FROM items WHERE retired = 0 AND area = ?", c)
            one("SELECT count(*) FROM schedule WHERE profile_id = ? AND area = ?", pid, c)
            one("SELECT count(*) FROM schedule WHERE profile_id = ? AND area = ? AND suspended "
                "IN (0, 1) AND state = 0", pid, c)
            one("SELECT count(*) FROM schedule WHERE profile_id = ? AND area = ? AND suspended = 0 "
                "AND state IN (1, 2, 3) AND due_ms < ?", pid, c, end)
        con.execute("SELECT (SELECT s.area FROM schedule s WHERE s.profile_id = ? AND s.item_id = i.id), "
                    "(SELECT s.state FROM schedule s WHERE s.profile_id = ? AND s.item_id = i.id), "
                    "(SELECT s.suspended = 0 AND s.state != 0 AND s.due_ms < ? FROM schedule s "
                    "WHERE s.profile_id = ? AND s.item_id = i.id) FROM items i WHERE i.retired = 1",
                    (pid, pid, end, pid)).fetchall()
        for _ in range(len(codes) + 1):  # distinct live areas, one index seek each
            one("SELECT min(area) FROM items WHERE retired = 0 AND area > ?", "")
        one("SELECT count(*) FROM reviews WHERE profile_id = ? AND reviewed_ms >= ? AND "
            "source = 'study' AND state_before = 0", pid, start)
        one("SELECT count(*) FROM reviews WHERE profile_id = ? AND reviewed_ms >= ?", pid, start)
        con.execute("SELECT profile_id FROM reviews WHERE profile_id < ? LIMIT 1", (pid,)).fetchall()
        con.execute("SELECT profile_id FROM reviews WHERE profile_id > ? LIMIT 1", (pid,)).fetchall()
        one("SELECT count(*) FROM reviews")
        con.execute("COMMIT")

    out = time_calls(run, REPEAT)
    con.close()
    return out


def main() -> None:
    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context
    from cmqprep.services.stats import home_counts

    db = ensure_db()
    path = working_copy(db)
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", fixed_clock, random.Random(1))
    t = time.perf_counter()
    first = home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings, NOW)
    first_ms = (time.perf_counter() - t) * 1000
    samples = time_calls(lambda: home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings,
                                             NOW), REPEAT)
    codes = [a.code for a in first.areas]
    table = Table("home_counts", "home-screen counts (100k items, 79k seen, 1M reviews)")
    table.add("home_counts(), warm", samples, floor(path, ctx.profile_id, codes), "<= 5 ms")
    table.add("home_counts(), first call in the process", None, single=first_ms, target="<= 5 ms")
    table.note(f"due today {first.due_now:,}, new available {first.new_available}, reviews today "
               f"{first.reviews_today:,}, reviews in all {first.reviews_total:,}")
    table.note("per area: " + ", ".join(f"{a.code} {a.items}/{a.seen}/{a.due}/{a.new}"
                                        for a in first.areas) + " (items/seen/due/new)")
    table.emit()
    ctx.engine.dispose()


if __name__ == "__main__":
    main()

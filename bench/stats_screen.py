"""The statistics screen's data over 1M reviews: services.stats_report (readiness per area,
calibration, activity), as the stats screen computes it in a worker thread.

Floor: a plain sqlite3 pass over the same review log (per-item histories in time order).
"""

from __future__ import annotations

import random
import sqlite3
import time

from _common import NOW, Table, fixed_clock, time_calls, working_copy
from _synth import ensure_db

REPEAT = 5


def main() -> None:
    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context

    db = ensure_db()
    path = working_copy(db)
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", fixed_clock, random.Random(1))
    table = Table("stats_screen", "statistics over 1M reviews (service layer, off the UI thread)")
    try:
        from cmqprep.services.stats_report import stats_report
    except ImportError as exc:
        table.note(f"services.stats_report is not there yet: {exc}")
        table.emit()
        return

    def run() -> None:
        stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings, NOW)

    t = time.perf_counter()
    run()
    first = (time.perf_counter() - t) * 1000
    con = sqlite3.connect(path)

    def floor() -> None:
        con.execute("SELECT pack_key, item_key, reviewed_ms, rating FROM reviews WHERE "
                    "profile_id = 1 ORDER BY pack_key, item_key, reviewed_ms").fetchall()

    samples = time_calls(run, REPEAT, warmup=0)
    try:
        from cmqprep.services.readiness import area_report

        table.add("readiness.area_report()", time_calls(
            lambda: area_report(ctx.engine, ctx.profile_id, ctx.settings, NOW), REPEAT, warmup=0),
            target="")
    except ImportError:
        pass
    table.add("stats_report() (whole screen)", samples, time_calls(floor, REPEAT, warmup=1),
              "<= 300 ms")
    table.add("stats_report(), first call", None, single=first, target="<= 300 ms")
    table.note("floor: one sqlite3 read of the whole log in per-item time order (what a replay")
    table.note("or calibration pass over 1M reviews must at least read).")
    table.emit()
    ctx.engine.dispose()


if __name__ == "__main__":
    main()

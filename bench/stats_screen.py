"""The statistics screen's data over 1M reviews: services.stats_report as the stats screen
computes it in a worker thread, cold (first build of the statistics cache) and warm.

Warm cases: nothing new since the last opening; 100 new reviews (a short study run); a
10,000-review progress import of old reviews spread over the history (every touched item is
replayed from its whole log). Floors: plain sqlite3 reading the whole log in per-item order
(what a cold build must read), and the same query shapes as a warm opening reads.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
import uuid

from _common import NOW, Table, fixed_clock, time_calls, working_copy
from _synth import ensure_db

REPEAT = 7
NOW_MS = int(NOW.timestamp() * 1000)


def add_reviews(path, n: int, rng: random.Random, old: bool) -> None:
    """n reviews of seen items: at NOW (a study run) or spread over the past two years (an
    import of another machine's history), written the way the services write them."""
    con = sqlite3.connect(path)
    keys = con.execute("SELECT DISTINCT pack_key, item_key FROM reviews WHERE rowid % 97 = 0"
                       ).fetchall()
    rows = []
    for i in range(n):
        pack_key, item_key = rng.choice(keys)
        at = NOW_MS - rng.randrange(2 * 365 * 86_400_000) if old else NOW_MS + i * 7000
        rows.append((uuid.UUID(int=rng.getrandbits(128)).hex, 1, pack_key, item_key, at,
                     rng.choice((1, 3, 3, 3, 4)), rng.randrange(3000, 30000),
                     "study", 2, None, None))
    con.executemany("INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, "
                    "rating, duration_ms, source, state_before, chosen, correct) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()


def main() -> None:
    import os

    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context
    from cmqprep.services.stats_report import stats_report

    db = ensure_db()
    path = working_copy(db)
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", fixed_clock, random.Random(1))
    table = Table("stats_screen", "statistics over 1M reviews (service layer, off the UI thread)")
    rng = random.Random(8)
    load = os.getloadavg()

    def run() -> None:
        stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings, NOW)

    t = time.perf_counter()
    run()
    cold = (time.perf_counter() - t) * 1000
    con = sqlite3.connect(path)

    def floor_log() -> None:
        con.execute("SELECT pack_key, item_key, reviewed_ms, id, rating, duration_ms FROM "
                    "reviews WHERE profile_id = 1 ORDER BY pack_key, item_key, reviewed_ms, id"
                    ).fetchall()

    def floor_warm() -> None:
        con.execute("SELECT config, watermark, gen FROM stats_meta WHERE profile_id = 1").fetchall()
        con.execute("SELECT max(rowid) FROM reviews").fetchall()
        con.execute("SELECT * FROM stats_bands WHERE profile_id = 1").fetchall()
        con.execute("SELECT sum(duration_ms) FROM stats_buckets WHERE profile_id = 1").fetchall()
        con.execute("SELECT start_ms FROM stats_buckets WHERE profile_id = 1").fetchall()

    warm = time_calls(run, REPEAT, warmup=1)
    floor = time_calls(floor_warm, REPEAT, warmup=1)

    def after(n: int, old: bool) -> float:
        add_reviews(path, n, rng, old)
        t = time.perf_counter()
        run()
        return (time.perf_counter() - t) * 1000

    def after_home(n: int) -> float:
        # What the app does: back from studying, the home screen's worker refreshes the
        # readiness table; pressing t then opens the statistics.
        from cmqprep.services.readiness import area_report as readiness_now

        add_reviews(path, n, rng, False)
        readiness_now(ctx.engine, ctx.profile_id, ctx.settings, NOW)
        t = time.perf_counter()
        run()
        return (time.perf_counter() - t) * 1000

    new100 = [after(100, False) for _ in range(REPEAT)]
    new100_home = [after_home(100) for _ in range(REPEAT)]
    import10k = [after(10_000, True) for _ in range(3)]
    parts = {}
    from cmqprep.services.readiness import area_report
    from cmqprep.services.stats import home_counts
    from cmqprep.services.stats_report import cached_activity, cached_calibration

    parts["  part: readiness.area_report(), reused"] = lambda: area_report(
        ctx.engine, ctx.profile_id, ctx.settings, NOW)

    def readiness_recomputed() -> None:
        from cmqprep.services import readiness

        readiness._reports.clear()
        area_report(ctx.engine, ctx.profile_id, ctx.settings, NOW)

    parts["  part: readiness.area_report(), recomputed"] = readiness_recomputed
    parts["  part: home_counts()"] = lambda: home_counts(
        ctx.engine, ctx.profile_id, "default", ctx.settings, NOW)
    parts["  part: history, streak, time (buckets)"] = lambda: cached_activity(
        ctx.engine, ctx.profile_id, ctx.settings, NOW)
    parts["  part: calibration (band sums)"] = lambda: cached_calibration(
        ctx.engine, ctx.profile_id)
    from cmqprep.services import stats_cache
    from cmqprep.services import stats_report as report_module
    from cmqprep.services.exam import attempt_history

    parts["  part: forecast (due dates)"] = lambda: report_module.due_forecast(
        ctx.engine, ctx.profile_id, ctx.settings, NOW)
    parts["  part: cache catch-up, nothing new"] = lambda: stats_cache.refresh(
        ctx.engine, ctx.profile_id, ctx.settings)
    parts["  part: attempt_history()"] = lambda: attempt_history(ctx.engine, ctx.profile_id)
    areas = area_report(ctx.engine, ctx.profile_id, ctx.settings, NOW)
    real_area_report = report_module.area_report

    def without_area_report() -> None:
        # What this work owns: the report with the readiness table taken as computed.
        report_module.area_report = lambda *a, **k: areas  # type: ignore[assignment]
        try:
            run()
        finally:
            report_module.area_report = real_area_report

    parts["stats_report() less area_report(), warm"] = without_area_report
    table.add("stats_report(), cold: first build", None, single=cold, target="<= 300 ms")
    table.add("  floor: read the whole log once", None,
              single=quantiles_single(time_calls(floor_log, 1, warmup=0)))
    table.add("stats_report(), warm: nothing new", warm, floor, "<= 300 ms")
    table.add("stats_report(), after 100 new reviews", new100, floor, "<= 300 ms")
    table.add("  same, readiness refreshed first by the home screen (the app's path)",
              new100_home, floor, "<= 300 ms")
    table.add("stats_report(), after a 10k-review import", import10k, floor, "<= 300 ms")
    for label, fn in parts.items():
        table.add(label, time_calls(fn, REPEAT, warmup=1))
    table.note(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
               f"at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table.note("cold: the statistics cache is built (every review replayed through FSRS once);")
    table.note("later openings fold in only the reviews added since. Warm floor: plain sqlite3")
    table.note("running the query shapes of a warm opening (meta, max rowid, bands, buckets).")
    table.emit()
    ctx.engine.dispose()
    con.close()
    shutil.rmtree(path.parent, ignore_errors=True)  # the 300 MB working copy


def quantiles_single(samples: list[float]) -> float:
    return samples[0]


if __name__ == "__main__":
    main()

"""Progress export and import of the synthetic 1M-review profile, phase by phase.

Export writes the full log of the 100k-item / 1M-review database. Import merges that file into
the same database after the profile's reviews and schedule were emptied (as on a second machine
with the pack installed): one streamed pass over the file (JSON, schema, rules) feeding the
one-transaction merge (ids checked by chunk, rows inserted by chunk, then every affected item's
schedule rebuilt by replaying its log), and the result must equal the original schedule rows,
which the synthetic database computed with the fsrs package itself. A second import of the same
file measures the "everything already here" path.

Where the time goes (see docs/performance.md): the streamed read about 5 s of CPU, SQLite's
inserts (four B-trees, three of them over random keys) 12 s, reading the logs back in item
order about 6 s, the FSRS replay about 2 s (domain/fsrs_fast.py, 2-3 us a review).

Run: python bench/progress_roundtrip.py
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time

from _common import NOW, Table, fixed_clock, peak_rss_mb, working_copy
from _synth import ensure_db


def schedule(con: sqlite3.Connection) -> list[tuple]:
    return con.execute("SELECT item_id, state, step, stability, difficulty, due_ms, "
                       "last_review_ms, reps, lapses FROM schedule WHERE reps > 0 "
                       "ORDER BY item_id").fetchall()


def timed(fn):  # type: ignore[no-untyped-def]
    """(result, wall seconds, CPU seconds): CPU time is steadier on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    from cmqprep.db.engine import default_url
    from cmqprep.domain.progress_stream import ExportStream
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services.context import open_context
    from cmqprep.services.progress import export_progress, import_progress

    db = working_copy(ensure_db())
    url = default_url(db.parent).replace("cmqprep.sqlite", db.name)
    ctx = open_context(db.parent, url, "default", fixed_clock, random.Random(1))
    out = db.parent / "export.json"
    table = Table("progress_roundtrip", "Progress export/import of the synthetic profile "
                                        "(single runs: wall time, CPU time in the target column)")

    def add(label: str, wall: float, cpu: float) -> None:
        table.add(label, None, single=wall, unit="s", target=f"CPU {cpu:.2f} s")

    result, wall, cpu = timed(lambda: export_progress(ctx.engine, ctx.profile_id, ctx.settings,
                                                      NOW, out))
    add("export (summary + full log)", wall, cpu)
    table.note(f"file: {result.reviews:,} reviews, {result.bytes / 2**20:.0f} MiB")
    def read_streamed() -> int:
        with out.open("rb") as f:
            stream = ExportStream(f.read, str(out), to_ms(NOW))
            stream.header()
            return sum(len(part) for _, part in stream.reviews())

    n, wall, cpu = timed(read_streamed)
    assert n == result.reviews
    add("streamed read + JSON + schema + rules", wall, cpu)

    ctx.engine.dispose()
    con = sqlite3.connect(db)
    before = schedule(con)
    con.execute("DELETE FROM reviews")
    con.execute("DELETE FROM schedule")
    con.commit()
    con.close()

    report, wall, cpu = timed(lambda: import_progress(ctx.engine, ctx.profile_id, ctx.settings,
                                                      out, NOW))
    add("import into the emptied profile (all new)", wall, cpu)
    table.note(f"import: {report.added:,} added, {report.rebuilt:,} schedule rows rebuilt")
    con = sqlite3.connect(db)
    after = schedule(con)
    con.close()
    assert after == before, "the imported log did not reproduce the schedule"
    table.note(f"the {len(after):,} reviewed items' schedule rows equal the originals")

    again, wall, cpu = timed(lambda: import_progress(ctx.engine, ctx.profile_id, ctx.settings,
                                                     out, NOW))
    add("same file again (nothing to add)", wall, cpu)
    assert again.added == 0 and again.present == report.added
    table.note(f"peak RSS {peak_rss_mb():.0f} MB")
    ctx.engine.dispose()
    shutil.rmtree(db.parent)  # the working copy and the export: hundreds of MB
    table.emit()


if __name__ == "__main__":
    main()

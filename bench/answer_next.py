"""Answer -> next card in the service layer: record the answer (log row, FSRS step, schedule row,
commit) and fetch the next card, on the 100k-item / 1M-review database.

Floor: the same statements through plain sqlite3 (same pragmas, one transaction per answer, no
FSRS step, no objects), run in the same process on its own copy of the database.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
import uuid
from dataclasses import replace
from datetime import timedelta

from _common import NOW, Table, working_copy
from _synth import ensure_db

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 400


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def service_run(db, n: int, area: str | None = None, **limits: int) -> list[float]:  # type: ignore[no-untyped-def]
    from cmqprep.db.engine import default_url
    from cmqprep.domain.scheduling import Grade
    from cmqprep.services.context import open_context
    from cmqprep.services.study import StudySession

    path = working_copy(db)
    clock = Clock()
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", clock, random.Random(1))
    settings = replace(ctx.settings, **limits)
    sess = StudySession(ctx.engine, ctx.profile_id, settings, clock, random.Random(2), area)
    rng = random.Random(3)
    card = sess.next_card()
    out = []
    for _ in range(n + 5):
        if card is None:
            break
        clock.now += timedelta(seconds=8)
        right = rng.random() < 0.85
        t = time.perf_counter()
        if card.kind == "question":
            sess.answer_choice(card, card.answer if right else (card.answer + 1) % 4, 6000)
        else:
            sess.rate(card, Grade.GOOD if right else Grade.AGAIN, 6000)
        card = sess.next_card()
        out.append((time.perf_counter() - t) * 1000)
    ctx.engine.dispose()
    return out[5:]


CARD = ("i.id, i.pack_id, i.key, i.kind, i.area, i.topic, i.level, i.prompt, i.options, i.answer, "
        "i.explanation, i.reference, i.position")
NEXT_SQL = {
    "learning": f"SELECT {CARD}, s.state FROM schedule s JOIN items i ON i.id = s.item_id AND i.retired = 0 "
                "WHERE s.profile_id = ? AND s.suspended = 0 AND s.state IN (1, 3) AND s.due_ms <= ? "
                "ORDER BY s.due_ms LIMIT 2",
    "review": f"SELECT {CARD}, s.state FROM schedule s JOIN items i ON i.id = s.item_id AND i.retired = 0 "
              "WHERE s.profile_id = ? AND s.suspended = 0 AND s.state = 2 AND s.due_ms <= ? "
              "ORDER BY s.due_ms LIMIT 2",
    "new": f"SELECT {CARD}, NULL FROM items i WHERE i.retired = 0 AND i.position >= ? AND NOT EXISTS (SELECT 1 FROM schedule s "
           "WHERE s.profile_id = ? AND s.item_id = i.id) ORDER BY i.position LIMIT 2",
}


def floor_run(db, n: int, new_cards: bool) -> list[float]:  # type: ignore[no-untyped-def]
    """The floor: the service's statements through plain sqlite3, one transaction per answer.

    Same work per answer as StudySession: read the schedule row, append the review, write the
    schedule row, commit; then one read transaction with the queue queries in order (today's
    counts are read once per run, as the service caches them). The new state is a fixed
    stand-in (no FSRS step) and no objects are built.
    """
    path = working_copy(db)
    con = sqlite3.connect(path, isolation_level=None)
    for p in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {p}")
    now = int(NOW.timestamp() * 1000)
    con.execute("SELECT state_before, count(*) FROM reviews WHERE profile_id = 1 AND "
                "reviewed_ms >= ? AND source = 'study' GROUP BY state_before",
                (now - 11 * 3_600_000,)).fetchall()
    out = []
    new_from = -1

    def next_card() -> tuple | None:
        nonlocal new_from
        con.execute("BEGIN")
        rows = con.execute(NEXT_SQL["learning"], (1, now)).fetchall()
        if not rows and new_cards:
            rows = con.execute(NEXT_SQL["new"], (new_from, 1)).fetchall()
            if rows:
                new_from = rows[0][-1]
        elif not rows:
            rows = con.execute(NEXT_SQL["review"], (1, now + 86_400_000)).fetchall()
        con.execute("COMMIT")
        return rows[0] if rows else None

    row = next_card()
    for _ in range(n + 5):
        if row is None:
            break
        now += 8000
        t = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        old = con.execute("SELECT state, step, stability, difficulty, due_ms, last_review_ms, "
                          "reps, lapses FROM schedule WHERE profile_id = 1 AND item_id = ?",
                          (row[0],)).fetchone()
        con.execute("INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, rating, "
                    "duration_ms, source, state_before, chosen, correct) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (uuid.uuid4().hex, 1, "cmqoe", row[2], now, 3, 6000, "study", 2, 0, 1))
        state = (2, None, 10.0, 5.0, now + 5 * 86_400_000, now, 3, 0)
        if old is None:
            con.execute("INSERT INTO schedule (profile_id, item_id, area, state, step, stability, "
                        "difficulty, due_ms, last_review_ms, reps, lapses, suspended, flagged) "
                        "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)", (row[0], row[4], *state))
        else:
            con.execute("UPDATE schedule SET state = ?, step = ?, stability = ?, difficulty = ?, "
                        "due_ms = ?, last_review_ms = ?, reps = ?, lapses = ? "
                        "WHERE profile_id = 1 AND item_id = ?", (*state, row[0]))
        con.execute("COMMIT")
        row = next_card()
        out.append((time.perf_counter() - t) * 1000)
    con.close()
    return out[5:]


def main() -> None:
    db = ensure_db()
    table = Table("answer_next", "answer -> next card, service layer (100k items, 1M reviews)")
    due = service_run(db, N, reviews_per_day=99999)
    table.add("due reviews (all areas)", due, floor_run(db, N, False),
              "median <= 0.5 ms, p95 <= 1 ms")
    table.add("due reviews (area III only)", service_run(db, N, "III", reviews_per_day=99999),
              None, "median <= 0.5 ms, p95 <= 1 ms")
    table.add("new cards (79k seen ahead in pack order)",
              service_run(db, N // 2, reviews_per_day=0, new_per_day=9999),
              floor_run(db, N // 2, True), "median <= 0.5 ms, p95 <= 1 ms")
    table.add("default limits (200 reviews, 20 new)", service_run(db, N), None,
              "median <= 0.5 ms, p95 <= 1 ms")
    table.note("Each sample: answer_choice/rate (review row + FSRS step + schedule row, committed)")
    table.note("then next_card(); clock +8 s per answer; 85% right. Floor: same statements via sqlite3.")
    table.emit()


if __name__ == "__main__":
    main()

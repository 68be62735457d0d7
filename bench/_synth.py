"""Build (once) and cache the synthetic benchmark database: 100k items, 1M reviews, ~7% due.

Review histories are real ones: each seen item takes the history of a card from
/work/shared/data/fsrs-real-review-log.csv (intervals, ratings, durations), shifted in time.
FSRS is shift-invariant (only elapsed time matters, fuzzing is off), so each real history is
replayed once and its final state shifted with it: the schedule rows are exactly what
domain/scheduling.replay would give for the stored reviews, at a thousandth of the cost.

Run directly to (re)build: python bench/_synth.py [--force]
"""

from __future__ import annotations

import csv
import math
import os
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from _common import CACHE, NOW, fixed_clock

N_ITEMS = int(os.environ.get("CMQBENCH_ITEMS", 100_000))
N_REVIEWS = int(os.environ.get("CMQBENCH_REVIEWS", 1_000_000))
DUE_SHARE = 0.07  # of all items, due at NOW
TERM_SHARE = 0.2
RETIRED_SHARE = 0.01
SUSPENDED_SHARE = 0.005
SPAN_MS = 2 * 365 * 86_400_000
SEED = 2026
BUILDER_VERSION = 4  # 4: built at schema 0004 (counter tables and triggers filled as it goes)
LOG = Path(os.environ.get("CMQBENCH_LOG", "/work/shared/data/fsrs-real-review-log.csv"))
PACK_VERSION = "9999.1"  # newer than the bundled bank, so opening the database installs nothing

WORDS = ("quality process customer supplier team leader strategy measure control variation "
         "audit risk improvement charter project benchmark training culture value stream cost "
         "defect sample capability standard policy objective review feedback survey design "
         "planning deployment metric baseline target owner scope budget change vendor").split()


def schema_tag() -> str:
    """A short digest of the migration scripts: a cache built under another schema (0004 is
    still settling) is never opened as if it were current, and is rebuilt instead."""
    import hashlib

    versions = Path(__file__).resolve().parent.parent / "src/cmqprep/db/migrations/versions"
    h = hashlib.sha1()
    for f in sorted(versions.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:8]


def db_path() -> Path:
    return CACHE / f"synth-v{BUILDER_VERSION}-{schema_tag()}-{N_ITEMS}-{N_REVIEWS}.sqlite"


def _text(rng: random.Random, lo: int, hi: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    return " ".join(words).capitalize()


def bundled_manifest():  # type: ignore[no-untyped-def]
    from cmqprep.packs.errors import read_text
    from cmqprep.packs.native import MANIFEST, parse_manifest
    from cmqprep.paths import bundled_bank

    path = bundled_bank() / MANIFEST
    manifest, blueprint, _ = parse_manifest(read_text(path, str(path)), str(path))
    return manifest, blueprint


def make_items(n: int, seed: int = SEED) -> list:
    """n valid questions and term cards over the blueprint's areas (weighted by scored count)."""
    from cmqprep.domain.items import Question, TermCard

    _, bp = bundled_manifest()
    rng = random.Random(seed)
    areas = list(bp.areas)
    weights = [a.scored for a in areas]
    out = []
    for i in range(n):
        area = rng.choices(areas, weights)[0]
        topic = rng.choice(area.topics)
        if rng.random() < TERM_SHARE:
            out.append(TermCard(f"syn-{area.code}-{i:06d}", topic.code, _text(rng, 2, 5),
                                _text(rng, 15, 40) + ".", "Synthetic reference"))
        else:
            options = tuple(f"{'ABCD'[k]}: {_text(rng, 3, 9)}" for k in range(4))
            out.append(Question(f"syn-{area.code}-{i:06d}", topic.code, topic.level,
                                _text(rng, 12, 35) + "?", options, rng.randrange(4),
                                _text(rng, 20, 60) + ".", "Synthetic reference (2026)"))
    return out


def make_pack(items: list):  # type: ignore[no-untyped-def]
    from cmqprep.packs.native import Manifest, Pack

    manifest, bp = bundled_manifest()
    m = Manifest(manifest.id, PACK_VERSION, "Synthetic benchmark bank", "CC0-1.0")
    return Pack(m, bp, items, source="synthetic")


@dataclass
class Template:
    """One real card's history, relative to its first review, replayed once."""

    offsets: list[int]
    ratings: list[int]
    durations: list[int]
    states: list  # SchedState after 0..n reviews (states[0] is NEW)


def templates() -> list[Template]:
    from cmqprep.domain.scheduling import Grade, SchedState, apply_review

    by_card: dict[str, list[tuple[int, int, int]]] = {}
    with LOG.open(newline="") as f:
        for row in csv.DictReader(f):
            at = int(datetime.fromisoformat(row["review_time"]).timestamp() * 1000)
            by_card.setdefault(row["card_id"], []).append(
                (at, int(row["review_rating"]), int(row["review_duration"])))
    out = []
    for history in by_card.values():
        history.sort()
        t0 = history[0][0]
        states = [SchedState()]
        for at, rating, _ in history:
            states.append(apply_review(states[-1], Grade(rating), at - t0))
        out.append(Template([h[0] - t0 for h in history], [h[1] for h in history],
                            [min(h[2], 600_000) for h in history], states))
    return out


def build(path: Path) -> float:
    """Create the database at `path`; returns the seconds it took."""
    from cmqprep.config import Settings
    from cmqprep.db.engine import default_url, open_database
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services.packs import install_pack
    from cmqprep.services.profiles import ensure_profile, save_settings

    started = time.perf_counter()
    rng = random.Random(SEED)
    now_ms = to_ms(NOW)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    data_dir = path.parent / "data"
    engine = open_database(default_url(path.parent).replace("cmqprep.sqlite", path.name),
                           data_dir, fixed_clock())
    t = time.perf_counter()
    install_pack(engine, make_pack(make_items(N_ITEMS)), now_ms - SPAN_MS - 86_400_000)
    print(f"  items generated and installed with install_pack: {time.perf_counter() - t:.1f} s")
    pid = ensure_profile(engine, "default", now_ms - SPAN_MS)
    save_settings(engine, pid, Settings(timezone="UTC"))
    engine.dispose()

    con = sqlite3.connect(path)
    items = con.execute("SELECT id, key, kind, answer, area FROM items ORDER BY position").fetchall()
    pack_key = con.execute("SELECT key FROM packs").fetchone()[0]
    tpls = templates()
    weights = [math.sqrt(len(t.offsets)) for t in tpls]
    # New cards come in pack order, so the seen items are the first ones by position.
    plan: list[tuple[Template, int]] = []
    total = 0
    while total < N_REVIEWS and len(plan) < len(items):
        tpl = rng.choices(tpls, weights)[0]
        k = min(len(tpl.offsets), N_REVIEWS - total)
        plan.append((tpl, k))
        total += k
    p_due = min(1.0, DUE_SHARE * len(items) / len(plan))
    reviews, sched = [], []
    for (item_id, key, kind, answer, area), (tpl, k) in zip(items, plan):
        final = tpl.states[k]
        due_rel, last_rel = final.due_ms, final.last_review_ms
        if rng.random() < p_due and due_rel < SPAN_MS:
            # Log-uniform backlog (an hour to the whole span): most due cards are a few days
            # late, some were left alone for a year; this is what spreads the log over two years.
            overdue = math.exp(rng.uniform(math.log(3_600_000), math.log(SPAN_MS - due_rel)))
            t0 = now_ms - due_rel - int(overdue)
        else:
            t0 = now_ms - rng.randint(last_rel, max(last_rel, due_rel - 1))
        for j in range(k):
            rating = tpl.ratings[j]
            correct = chosen = None
            if kind == "question":
                correct = rating > 1
                chosen = answer if correct else (answer + rng.randint(1, 3)) % 4
            reviews.append((f"{rng.getrandbits(128):032x}", pid, pack_key, key,
                            t0 + tpl.offsets[j], rating, tpl.durations[j], "study",
                            tpl.states[j].state, chosen, correct))
        s = final
        sched.append((pid, item_id, area, s.state, s.step, s.stability, s.difficulty,
                      t0 + s.due_ms, t0 + s.last_review_ms, s.reps, s.lapses,
                      rng.random() < SUSPENDED_SHARE, None, rng.random() < SUSPENDED_SHARE))
    reviews.sort(key=lambda r: r[4])  # the log is appended in time order
    t = time.perf_counter()
    with con:
        con.executemany("INSERT INTO schedule VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", sched)
        con.executemany("INSERT INTO reviews (id, profile_id, pack_key, item_key, reviewed_ms, "
                        "rating, duration_ms, source, state_before, chosen, correct) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?)", reviews)
        retired = rng.sample([i[0] for i in items], int(RETIRED_SHARE * len(items)))
        con.executemany("UPDATE items SET retired = 1 WHERE id = ?", [(i,) for i in retired])
    print(f"  {len(sched):,} schedule rows and {len(reviews):,} reviews inserted: "
          f"{time.perf_counter() - t:.1f} s")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.perf_counter() - started


def ensure_db(force: bool = False) -> Path:
    """The cached database, built first if missing (prints the build time)."""
    path = db_path()
    if path.exists() and not force:
        return path
    print(f"building {path.name} ({N_ITEMS:,} items, {N_REVIEWS:,} reviews) ...")
    # Per process: two benchmarks started together may both build; the last rename wins.
    tmp = path.with_name(f"{path.stem}.building-{os.getpid()}.sqlite")
    seconds = build(tmp)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    tmp.replace(path)
    print(f"built in {seconds:.1f} s: {describe(path)}")
    return path


def describe(path: Path) -> str:
    con = sqlite3.connect(path)
    now_ms = int(NOW.timestamp() * 1000)
    q = lambda sql, *a: con.execute(sql, a).fetchone()[0]  # noqa: E731
    items = q("SELECT count(*) FROM items")
    seen = q("SELECT count(*) FROM schedule")
    due = q("SELECT count(*) FROM schedule WHERE due_ms <= ? AND suspended = 0", now_ms)
    reviews = q("SELECT count(*) FROM reviews")
    first = q("SELECT min(reviewed_ms) FROM reviews")
    con.close()
    return (f"{items:,} items, {seen:,} seen, {due:,} due now ({100 * due / items:.1f}%), "
            f"{reviews:,} reviews over {(now_ms - first) / 86_400_000:.0f} days, "
            f"{path.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    p = ensure_db(force="--force" in sys.argv)
    print(describe(p))

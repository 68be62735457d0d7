"""SIGKILL a real cmqprep process while it studies or installs a pack: the database stays intact,
every acknowledged answer is in the log and an interrupted install leaves no trace.

Two kinds of kill point, both seeded: the child kills itself with SIGKILL at a chosen SQL
statement or commit (exact points inside transactions, no timing involved), and the parent
kills the child after a random delay (points nobody chose, e.g. in the middle of a commit or
of the daily backup). Most children are forked from the test process, which has cmqprep
imported already, so a kill point costs milliseconds rather than an interpreter start; one run
per test starts a fresh interpreter on a driver script, as a user's terminal would.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import event

from cmqprep.db.engine import default_url, make_engine, read_session
from cmqprep.packs.native import load_pack
from cmqprep.services.context import open_context
from cmqprep.services.doctor import schedule_mismatches
from tests.conftest import SMALL_MANIFEST, FakeClock, question, term, write_pack

pytestmark = pytest.mark.kill
ROOT = Path(__file__).resolve().parents[1]

DRIVER = r'''
import os, random, signal, sys, time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event

from cmqprep.config import Settings, system_clock
from cmqprep.db.engine import default_url

mode, data, source, die_at, seed = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
points = 0


def arm(engine):
    """SIGKILL ourselves as SQLite starts the die_at-th statement (BEGIN and COMMIT included),
    counting from 1, whichever way cmqprep reaches SQLite (ORM session or raw cursor)."""
    def point(_sql):
        global points
        points += 1
        if points == die_at:
            os.kill(os.getpid(), signal.SIGKILL)

    @event.listens_for(engine, "connect")
    def trace(dbapi_conn, _record):
        dbapi_conn.set_trace_callback(point)

    engine.dispose()  # connections made so far were not traced: make new ones


def say(line):
    # unbuffered: once written, the line survives our death (the kernel holds it in the pipe)
    if "OUT" in globals():
        os.write(OUT, (line + "\n").encode())
    else:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


if mode == "study":
    from cmqprep.services.context import open_context
    from cmqprep.services.study import StudySession

    ctx = open_context(data, default_url(data), "default", system_clock, random.Random(seed),
                       bank_dir=source)
    arm(ctx.engine)
    settings = Settings(timezone="UTC", new_per_day=9999, reviews_per_day=99999)
    # Ten study minutes pass per answer, so learning cards come back and cards never run out.
    answered = [0]
    start = system_clock()
    clock = lambda: start + timedelta(minutes=10 * answered[0])
    session = StudySession(ctx.engine, ctx.profile_id, settings, clock, ctx.rng)
    rng = random.Random(seed)
    say("ready")
    while (card := session.next_card()) is not None:
        answered[0] += 1
        if card.kind == "question":
            pick = card.answer if rng.random() < 0.7 else (card.answer + 1) % len(card.options)
            rec = session.answer_choice(card, pick, 1500)
        else:
            rec = session.rate(card, rng.choice([1, 2, 3, 4]), 1500)
        say("ack " + rec.review_id)  # only after the answer's transaction committed
    say("done")
    time.sleep(60)  # a user's process does not end on its own either: the kill ends it
elif mode == "install":
    from cmqprep.db.engine import open_database
    from cmqprep.packs.native import load_pack
    from cmqprep.services.packs import install_pack

    pack = globals().get("PACK") or load_pack(source)  # forked children inherit it parsed
    engine = open_database(default_url(data), data, system_clock())
    arm(engine)
    say("loaded")
    install_pack(engine, pack, 1_700_000_000_000)
    say("installed")
    time.sleep(60)
elif mode == "import":
    from cmqprep.services.context import open_context
    from cmqprep.services.progress import import_progress

    ctx = open_context(data, default_url(data), "default", system_clock, random.Random(seed),
                       bank_dir=Path(os.environ["CMQPREP_TEST_BANK"]))
    arm(ctx.engine)
    say("loaded")
    import_progress(ctx.engine, ctx.profile_id, Settings(timezone="UTC"), source, system_clock())
    say("imported")
    time.sleep(60)
'''


def pack_with(root: Path, pack_id: str, questions: int, terms: int) -> Path:
    items = [question(f"{pack_id}-q{n}", "I.A" if n % 2 else "II.A", key="ABCD"[n % 4])
             for n in range(questions)]
    items += [term(f"{pack_id}-t{n}") for n in range(terms)]
    return write_pack(root, "\n".join(items), SMALL_MANIFEST.replace('"mini"', f'"{pack_id}"'))


def prepared(tmp_path: Path, bank: Path) -> Path:
    """A data directory whose database already holds the bank (children only study)."""
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(1),
                       bank_dir=bank)
    ctx.engine.dispose()
    return data


class Child:
    """A cmqprep process whose output lines we read and which we may kill."""

    def __init__(self, pid: int, out: IO[str], proc: subprocess.Popen[str] | None = None):
        self.pid, self.out, self.proc = pid, out, proc

    @classmethod
    def fork(cls, *args: object, **inherit: object) -> Child:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run the driver's main, never return into pytest
            code = 0
            try:
                os.close(r)
                sys.argv = ["driver", *map(str, args)]
                exec(compile(DRIVER, "driver", "exec"), {"__name__": "driver", "OUT": w, **inherit})
            except BaseException:
                os.write(w, ("error " + traceback.format_exc().replace("\n", " | ") + "\n")
                         .encode())
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        return cls(pid, os.fdopen(r, "r"))

    @classmethod
    def spawn(cls, driver: Path, *args: object) -> Child:
        proc = subprocess.Popen([sys.executable, str(driver), *map(str, args)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return cls(proc.pid, proc.stdout, proc)  # type: ignore[arg-type]

    def finish(self, kill_after: float | None, ready: str) -> list[str]:
        """Let the child run until it dies at its own kill point, or kill it `kill_after`
        seconds after it said `ready`; returns every line it printed."""
        lines = []
        if kill_after is not None:
            first = self.out.readline().strip()
            assert first == ready, first + self.out.read()
            lines.append(first)
            time.sleep(kill_after)
            os.kill(self.pid, signal.SIGKILL)
        lines += self.out.read().splitlines()
        self.out.close()
        if self.proc is not None:
            self.proc.wait(timeout=60)
            status = -self.proc.returncode
        else:
            _, raw = os.waitpid(self.pid, 0)
            status = os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else 0
        assert status == signal.SIGKILL, lines[-3:]
        return lines


def integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def review_ids(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute("SELECT id FROM reviews")}
    finally:
        con.close()


def dump(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def consistent(data: Path) -> None:
    engine = make_engine(default_url(data))
    try:
        with read_session(engine) as s:
            assert schedule_mismatches(s) == []
    finally:
        engine.dispose()


def count_points(data: Path, scratch: Path, action) -> int:  # type: ignore[no-untyped-def]
    """How many statements (BEGIN and COMMIT included) `action(engine)` runs, counted on a
    copy of the database, so kill points follow whatever the code does today."""
    from cmqprep.services.backups import make_backup

    copy = make_backup(data / "cmqprep.sqlite", scratch, "manual", FakeClock()())
    engine = make_engine(f"sqlite:///{copy}")
    seen: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.set_trace_callback(seen.append)

    try:
        action(engine)
    finally:
        engine.dispose()
    return len(seen)


def test_sigkill_during_a_progress_import_leaves_all_or_nothing(tmp_path: Path,
                                                                monkeypatch) -> None:
    import json

    from cmqprep.config import Settings, system_clock
    from cmqprep.services.progress import import_progress

    bank = pack_with(tmp_path / "bank", "base", 40, 10)
    data = prepared(tmp_path, bank)
    db = data / "cmqprep.sqlite"
    doc = json.loads((Path(__file__).parent / "hostile" / "progress" /
                      "valid-baseline.json").read_text())
    r0 = doc["reviews"][0]
    doc["reviews"] = [dict(r0, id=f"{n:032x}", pack="base", item=f"base-q{n % 40}",
                           at_ms=r0["at_ms"] + n * 1000, rating=1 + n % 4, chosen=None,
                           correct=None) for n in range(3000)]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(doc))
    monkeypatch.setenv("CMQPREP_TEST_BANK", str(bank))
    con = sqlite3.connect(db)
    pid = con.execute("SELECT id FROM profiles WHERE name = 'default'").fetchone()[0]
    con.close()
    points = count_points(data, tmp_path / "dry", lambda engine: import_progress(
        engine, pid, Settings(timezone="UTC"), export, system_clock()))
    before = dump(db)
    rng = random.Random(11)
    plan = [("at", n) for n in sorted(rng.sample(range(1, points), min(5, points - 1)))]
    plan += [("at", points), ("after", 0.02)]
    outcomes = []
    for how, where in plan:
        child = Child.fork("import", data, export, where if how == "at" else -1, 0)
        lines = child.finish(None if how == "at" else where, "loaded")
        assert integrity(db) == "ok"
        logged = len(review_ids(db))
        if logged:
            assert logged == 3000  # all of it, schedules included:
            consistent(data)
            outcomes.append("all")
            break
        assert "imported" not in lines and dump(db) == before
        outcomes.append("nothing")
    assert outcomes[: len(plan) - 1] == ["nothing"] * (len(plan) - 1)


def test_sigkill_while_studying_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    bank = pack_with(tmp_path / "bank", "crash", 400, 100)
    data = prepared(tmp_path, bank)
    db = data / "cmqprep.sqlite"
    rng = random.Random(20260302)
    # kill points inside transactions (statement numbers), timed kills, one fresh interpreter
    plan = ([("at", rng.randint(2, 150)) for _ in range(10)]
            + [("after", rng.uniform(0.0, 0.15)) for _ in range(5)] + [("spawn", 0.2)])
    acked: set[str] = set()
    for kills, (how, where) in enumerate(plan, 1):
        args = ("study", data, bank, where if how == "at" else -1, rng.randrange(10**6))
        child = Child.spawn(driver, *args) if how == "spawn" else Child.fork(*args)
        lines = child.finish(None if how == "at" else where, "ready")
        acked |= {line[4:] for line in lines if line.startswith("ack ")}
        assert "done" not in lines  # the kill came before the cards ran out
        assert integrity(db) == "ok"
        logged = review_ids(db)
        assert acked <= logged, f"acknowledged but lost: {acked - logged}"
        # at most the one answer per kill that committed but was not yet acknowledged
        assert len(logged - acked) <= kills
        consistent(data)
    assert len(plan) == 16 and len(acked) > 20  # answers really were given between kills
    # what killed backups left behind is swept by the next one
    from cmqprep.services.backups import make_backup

    make_backup(db, data / "backups", "manual", FakeClock()())
    assert list((data / "backups").glob(".*")) == []


def test_sigkill_during_a_pack_install_leaves_all_or_nothing(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    bank = pack_with(tmp_path / "bank", "base", 6, 2)
    big = pack_with(tmp_path / "big", "big", 1500, 500)
    data = prepared(tmp_path, bank)
    db = data / "cmqprep.sqlite"
    before = dump(db)
    parsed = load_pack(big)
    from cmqprep.services.packs import install_pack

    points = count_points(data, tmp_path / "dry",
                          lambda engine: install_pack(engine, parsed, 1_700_000_000_000))
    assert points >= 4  # at least BEGIN, a statement or two, COMMIT
    rng = random.Random(9)
    # kill points spread over the install, COMMIT (the last point) always among them
    plan = [("at", n) for n in sorted(rng.sample(range(1, points), min(5, points - 1)))]
    plan += [("at", points), ("after", 0.05), ("spawn", 0.1)]
    outcomes = []
    for how, where in plan:
        args = ("install", data, big, where if how == "at" else -1, 0)
        child = Child.spawn(driver, *args) if how == "spawn" else Child.fork(*args, PACK=parsed)
        lines = child.finish(None if how == "at" else where, "loaded")
        assert integrity(db) == "ok"
        con = sqlite3.connect(db)
        installed = con.execute("SELECT count(*) FROM items JOIN packs ON packs.id = "
                                "items.pack_id WHERE packs.key = 'big'").fetchone()[0]
        con.close()
        if installed:
            assert installed == 2000  # all of it
            outcomes.append("all")
            break  # a further install would be an update; "all" has been shown
        assert "installed" not in lines
        assert dump(db) == before  # nothing: not a row, not a pack, not a schedule
        outcomes.append("nothing")
    # every statement kill point fell inside the install transaction and left nothing
    assert outcomes[: len(plan) - 2] == ["nothing"] * (len(plan) - 2)

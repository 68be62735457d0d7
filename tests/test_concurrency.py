"""Several cmqprep processes on one database at once, for a couple of seconds: two learners
studying (different profiles) while a third process runs CLI commands in a loop (stats, pack
list, a pack reinstall, a progress export, doctor). Nobody sees "database is locked", and the
log holds exactly the answers each learner was told were saved."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import sqlite3
import traceback
from pathlib import Path

import pytest

from cmqprep.db.engine import default_url, make_engine, read_session
from cmqprep.services.context import open_context
from cmqprep.services.doctor import schedule_mismatches
from cmqprep.services.profiles import create_profile
from tests.conftest import SMALL_MANIFEST, FakeClock, question, term, write_pack

pytestmark = pytest.mark.concurrency
SECONDS = 2.0


def fork(work, *args: object) -> tuple[int, io.TextIOWrapper]:  # type: ignore[no-untyped-def]
    """Run work(out, *args) in a forked process; its lines come back through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            work(lambda line: os.write(w, (line + "\n").encode()), *args)
        except BaseException:
            os.write(w, ("error " + traceback.format_exc().replace("\n", " | ") + "\n").encode())
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    return pid, os.fdopen(r, "r")


def study(say, data: Path, bank: Path, profile: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    import time
    from datetime import timedelta

    from cmqprep.config import Settings, system_clock
    from cmqprep.services.study import StudySession

    ctx = open_context(data, default_url(data), profile, system_clock, random.Random(seed),
                       create_profile=False, bank_dir=bank)
    settings = Settings(timezone="UTC", new_per_day=9999, reviews_per_day=99999)
    start, answered = system_clock(), [0]
    session = StudySession(ctx.engine, ctx.profile_id, settings,
                           lambda: start + timedelta(minutes=10 * answered[0]), ctx.rng)
    rng = random.Random(seed)
    end = time.monotonic() + SECONDS
    while time.monotonic() < end and (card := session.next_card()) is not None:
        answered[0] += 1
        if card.kind == "question":
            rec = session.answer_choice(card, rng.randrange(len(card.options)), 900)
        else:
            rec = session.rate(card, rng.choice([1, 3, 4]), 900)
        say("ack " + rec.review_id)
    say("end")


def commands(say, data: Path, bank: Path, export: Path) -> None:  # type: ignore[no-untyped-def]
    import time

    import cmqprep.paths
    from cmqprep.cli import main

    cmqprep.paths.bundled_bank = lambda: bank  # the CLI's bank is the one the learners use
    loop = [["stats", "--json"], ["pack", "list"], ["--profile", "second", "stats"],
            ["pack", "install", "-y", str(bank)], ["progress", "export", "-o", str(export),
                                                   "--force"], ["doctor"]]
    end = time.monotonic() + SECONDS
    n = 0
    while time.monotonic() < end:
        args = ["--data-dir", str(data), *loop[n % len(loop)]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        if code != 0 or err.getvalue():
            say(f"failed {' '.join(args[2:])}: exit {code}: {err.getvalue()!r} {out.getvalue()!r}")
        n += 1
    say(f"end {n}")


def collect(children: list[tuple[int, io.TextIOWrapper]]) -> list[list[str]]:
    outputs = []
    for pid, out in children:
        outputs.append(out.read().splitlines())
        out.close()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, outputs[-1][-3:]
    return outputs


def test_two_learners_and_a_cli_loop_share_one_database(tmp_path: Path) -> None:
    items = [question(f"c{n}", "I.A" if n % 2 else "II.A", key="ABCD"[n % 4]) for n in range(300)]
    items += [term(f"ct{n}") for n in range(60)]
    bank = write_pack(tmp_path / "bank", "\n".join(items), SMALL_MANIFEST.replace('"mini"', '"cc"'))
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(1),
                       bank_dir=bank)
    create_profile(ctx.engine, "second", 0)
    ctx.engine.dispose()  # nothing open across fork()

    children = [fork(study, data, bank, "default", 1), fork(study, data, bank, "second", 2),
                fork(commands, data, bank, tmp_path / "export.json")]
    try:
        a, b, cli = collect(children)
    finally:
        for pid, _ in children:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    problems = [line for line in a + b + cli if line.startswith(("failed", "error"))]
    assert problems == []
    assert a[-1] == "end" and b[-1] == "end" and cli[-1].startswith("end ")
    assert int(cli[-1].split()[1]) >= len(("stats", "list", "stats", "install", "export",
                                           "doctor"))  # the CLI loop went round at least once
    acked = {"default": [x[4:] for x in a if x.startswith("ack ")],
             "second": [x[4:] for x in b if x.startswith("ack ")]}
    assert acked["default"] and acked["second"]

    con = sqlite3.connect(data / "cmqprep.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for name, ids in acked.items():
        logged = [r[0] for r in con.execute(
            "SELECT reviews.id FROM reviews JOIN profiles ON profiles.id = reviews.profile_id "
            "WHERE profiles.name = ?", (name,))]
        assert sorted(logged) == sorted(ids)  # none lost, none twice, none of the other learner
    con.close()
    engine = make_engine(default_url(data))
    with read_session(engine) as s:
        assert schedule_mismatches(s) == []
    engine.dispose()
    assert (tmp_path / "export.json").stat().st_mode & 0o077 == 0


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    """First run in two terminals at the same moment: one creates the schema, the bank and the
    profile; the others wait for it and find everything there."""
    bank = write_pack(tmp_path / "bank", "\n".join([question("q1"), term("t1")]))
    data = tmp_path / "data"

    def opener(say, n: int) -> None:  # type: ignore[no-untyped-def]
        ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(n),
                           bank_dir=bank)
        say(f"opened {ctx.profile_id}")

    outputs = collect([fork(opener, n) for n in range(4)])
    assert all(o == [outputs[0][0]] for o in outputs), outputs
    con = sqlite3.connect(data / "cmqprep.sqlite")
    assert con.execute("SELECT count(*) FROM profiles").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM items").fetchone()[0] == 2
    con.close()

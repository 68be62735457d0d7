"""Shared fixtures: an isolated data directory, a controllable clock and a small pack."""

from __future__ import annotations

import random
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cmqprep.config import Settings
from cmqprep.services.context import AppContext

START = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock tests move by hand; returns timezone-aware UTC instants."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's data directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("CMQPREP_DATA_DIR", str(home / "data"))
    monkeypatch.delenv("CMQPREP_DB", raising=False)
    return home


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


SMALL_MANIFEST = """\
format = 1
id = "mini"
version = "1.0.0"
title = "Mini pack"
license = "CC0-1.0"

[blueprint]
name = "Mini blueprint"
scored = 3
unscored = 0
minutes = 10

[[blueprint.areas]]
code = "I"
title = "Leadership"
scored = 2
topics = [{ code = "I.A", title = "Structures", level = "apply" }]

[[blueprint.areas]]
code = "II"
title = "Strategy"
scored = 1
topics = [{ code = "II.A", title = "Models", level = "apply" }]
"""


def question(qid: str, topic: str = "I.A", key: str = "A", stem: str | None = None,
             options: list[str] | None = None) -> str:
    opts = options or [f"{qid} option one", f"{qid} option two", f"{qid} option three",
                       f"{qid} option four"]
    body = ",\n  ".join(f'"{o}"' for o in opts)
    return textwrap.dedent(f"""\
        [[question]]
        id = "{qid}"
        topic = "{topic}"
        level = "apply"
        stem = "{stem or f'What is the answer to question {qid}?'}"
        options = [
          {body},
        ]
        key = "{key}"
        explanation = "Because it is. The others are not."
        reference = "Test source (2026)"
        """)


def term(tid: str, topic: str = "II.A") -> str:
    return textwrap.dedent(f"""\
        [[term]]
        id = "{tid}"
        topic = "{topic}"
        front = "Term {tid}"
        back = "Definition of {tid}."
        """)


def write_pack(root: Path, items: str, manifest: str = SMALL_MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.toml").write_text(manifest)
    (root / "items.toml").write_text(items)
    return root


@pytest.fixture
def mini_pack(tmp_path: Path) -> Path:
    items = "\n".join([question("q1"), question("q2", key="B"), question("q3", "II.A", key="C"),
                       term("t1"), term("t2", "I.A")])
    return write_pack(tmp_path / "mini", items)


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock, mini_pack: Path) -> AppContext:
    """A migrated SQLite database with the mini pack installed as the bank, default profile."""
    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context

    data = tmp_path / "data"
    context = open_context(data, default_url(data), "default", clock, random.Random(7),
                           bank_dir=mini_pack)
    context.settings = Settings(timezone="UTC")  # day boundaries independent of the machine
    yield context
    context.engine.dispose()


def with_settings(ctx: AppContext, **changes: object) -> AppContext:
    from dataclasses import replace

    ctx.settings = replace(ctx.settings, **changes)
    return ctx


@pytest.fixture
def utc_settings() -> Settings:
    return Settings(timezone="UTC")


@pytest.fixture
def cli(ctx: AppContext, mini_pack: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `cmqprep ARGS...` in-process on ctx's database, with ctx's clock and the mini pack as
    the bundled bank; returns the exit code."""
    import cmqprep.config
    import cmqprep.paths
    from cmqprep.cli import main

    monkeypatch.setattr(cmqprep.config, "system_clock", ctx.clock)
    monkeypatch.setattr(cmqprep.paths, "bundled_bank", lambda: mini_pack)

    def run(*args: str) -> int:
        return main(["--data-dir", str(ctx.data_dir), *args])

    return run


def pytest_configure(config: pytest.Config) -> None:
    # Markers of the reliability tests (tests/test_crash_safety.py, tests/test_concurrency.py):
    # `pytest -m kill` or `-m concurrency` selects them; they also run by default.
    config.addinivalue_line("markers", "kill: SIGKILLs real cmqprep processes (seconds)")
    config.addinivalue_line("markers", "concurrency: two real processes on one database")

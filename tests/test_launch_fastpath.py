"""The launch fast path (services/launch.py): when it may skip SQLAlchemy, what it reads with
plain sqlite3, and that the engine, the daily backup and the keys still work behind it."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest

from cmqprep.db.engine import default_url
from cmqprep.db.light import plain_sqlite_file
from cmqprep.services.context import AppContext
from cmqprep.services.launch import _version_key, bank_is_current, fast_context, home_counts_now
from cmqprep.services.stats import home_counts
from tests.conftest import SMALL_MANIFEST, write_pack


def fast(ctx: AppContext, mini_pack: Path, profile: str = "default", url: str | None = None):  # type: ignore[no-untyped-def]
    return fast_context(ctx.data_dir, url or ctx.url, profile, ctx.clock, random.Random(1),
                        bank_dir=mini_pack)


def close(c: AppContext | None) -> None:
    if c is not None:
        if c.reader is not None:
            c.reader.close()
        if c.engine_ready and c.engine_failure() is None:
            c.engine.dispose()


def test_plain_sqlite_urls_only(tmp_path: Path) -> None:
    assert plain_sqlite_file(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    assert plain_sqlite_file("sqlite:///rel.db") == Path("rel.db")
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql://u@h/db",
                f"sqlite:///{tmp_path}/a.db?mode=ro", "sqlite+pysqlite:///x.db",
                "sqlite:///a%20b.db"):
        assert plain_sqlite_file(url) is None, url


def test_fast_context_reads_profile_and_settings_without_an_engine(ctx, mini_pack) -> None:
    from cmqprep.services.profiles import save_settings
    from tests.conftest import with_settings

    with_settings(ctx, new_per_day=7, timezone="UTC")
    save_settings(ctx.engine, ctx.profile_id, ctx.settings)
    c = fast(ctx, mini_pack)
    try:
        assert c is not None and not c.engine_ready and c.reader is not None
        assert c.profile_id == ctx.profile_id and c.settings == ctx.settings
        assert c.bank_message is None
    finally:
        close(c)


@pytest.mark.parametrize("case", ["no file", "other url", "old schema", "no profile",
                                  "bank newer", "bank unreadable", "not yet wal"])
def test_fast_context_declines_what_needs_the_full_path(ctx, mini_pack, tmp_path, case) -> None:
    url, profile, bank = ctx.url, "default", mini_pack
    path = plain_sqlite_file(ctx.url)
    assert path is not None
    if case == "no file":
        url = default_url(tmp_path / "elsewhere")
    elif case == "other url":
        url = ctx.url + "?timeout=5"
    elif case == "old schema":
        with sqlite3.connect(path) as con:
            con.execute("UPDATE alembic_version SET version_num = '0003'")
    elif case == "no profile":
        profile = "someone"
    elif case == "bank newer":
        bank = write_pack(tmp_path / "newer", "", SMALL_MANIFEST.replace('"1.0.0"', '"1.0.1"'))
    elif case == "bank unreadable":
        bank = write_pack(tmp_path / "broken", "", "id = [unclosed\n")
    elif case == "not yet wal":
        ctx.engine.dispose()
        with sqlite3.connect(path) as con:
            con.execute("PRAGMA journal_mode=DELETE")
    c = fast_context(ctx.data_dir, url, profile, ctx.clock, bank_dir=bank)
    assert c is None


def test_no_bundled_bank_is_current_and_versions_compare_like_packs(ctx, tmp_path) -> None:
    from cmqprep.packs.native import version_key

    with sqlite3.connect(plain_sqlite_file(ctx.url)) as con:  # type: ignore[arg-type]
        assert bank_is_current(con, tmp_path / "nothing-here")
    for v in ("1", "1.0.0", "2026.11.1", "10.2", "9.10"):
        assert _version_key(v) == version_key(v)


def test_counts_from_the_reader_equal_the_engine_counts(ctx, mini_pack) -> None:
    from tests.test_counters import study

    study(ctx, ctx.profile_id, 3, 3)
    ctx.clock.advance(days=3)
    c = fast(ctx, mini_pack)
    assert c is not None
    c.settings = ctx.settings
    try:
        before = home_counts_now(c, ctx.clock())
        assert not c.engine_ready  # read with sqlite3 only
        want = home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock(),
                           with_total=False)
        assert before == want and sum(a.seen for a in before.areas) == 3
        c.engine  # noqa: B018  (opens it: waits for the background thread)
        after = home_counts_now(c, ctx.clock())
        assert c.reader is None and after == want  # the reader is closed once it is not needed
    finally:
        close(c)


def test_engine_opens_in_the_background_then_the_daily_backup(ctx, mini_pack) -> None:
    backups = ctx.data_dir / "backups"
    ctx.clock.advance(days=2)  # a new UTC day: a daily backup is due
    before = set(backups.glob("*daily*")) if backups.exists() else set()
    c = fast(ctx, mini_pack)
    assert c is not None
    try:
        assert set(backups.glob("*daily*")) == before  # nothing before the engine is asked for
        engine = c.engine
        assert engine.dialect.name == "sqlite" and c.engine_failure() is None
        for t in threading.enumerate():
            if t.name == "cmqprep-open":
                t.join(30)
        assert len(set(backups.glob("*daily*")) - before) == 1
    finally:
        close(c)


def test_a_failed_background_open_is_reported(ctx, mini_pack) -> None:
    from cmqprep.db.engine import DatabaseError

    c = fast(ctx, mini_pack)
    assert c is not None

    def broken():  # type: ignore[no-untyped-def]
        raise DatabaseError("the disk is full")

    c.opener = broken
    with pytest.raises(DatabaseError):
        c.engine  # noqa: B018
    assert isinstance(c.engine_failure(), DatabaseError)
    close(c)


async def test_keys_before_the_engine_is_ready_wait_for_it(ctx, mini_pack) -> None:
    """The home screen paints from the reader; pressing s at once opens the engine and studies."""
    from cmqprep.ui.app import make_app
    from cmqprep.ui.screens.home import HomeScreen
    from cmqprep.ui.screens.study import StudyScreen

    c = fast(ctx, mini_pack)
    assert c is not None
    c.settings = ctx.settings
    app = make_app(c)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            home = app.screen
            assert isinstance(home, HomeScreen) and home.counts is not None
            assert [a.items for a in home.counts.areas] == [3, 2]
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, StudyScreen)
            await app.workers.wait_for_complete()
    finally:
        close(c)


async def test_backup_warnings_reach_the_home_screen(ctx, mini_pack) -> None:
    from cmqprep.ui.app import make_app

    c = fast(ctx, mini_pack)
    assert c is not None
    c.notices.append("cmqprep: warning: today's automatic backup was not made: disk full")
    app = make_app(c)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert any("automatic backup" in str(n.message) for n in app._notifications)
            assert c.notices == []
            await app.workers.wait_for_complete()
    finally:
        close(c)


def test_cli_takes_the_fast_path_once_the_database_exists(cli, ctx, monkeypatch) -> None:
    """`cmqprep` with no command: the first run takes the full path (fixture), later ones the
    fast path; the app is replaced by a stub that records the context it was given."""
    import cmqprep.ui.app as ui_app

    seen: list[AppContext] = []

    class Stub:
        def __init__(self, c: AppContext) -> None:
            seen.append(c)

        def run(self) -> None:
            pass

    monkeypatch.setattr(ui_app, "make_app", lambda c, start=None: Stub(c))
    assert cli() == 0
    assert len(seen) == 1 and seen[0].reader is not None and not seen[0].engine_ready
    close(seen[0])


@pytest.mark.parametrize("text", [
    None,  # the bundled bank's manifest
    SMALL_MANIFEST,
    'id = "a" # note "quoted"\nversion = "2.0"\n\n[blueprint]\nversion = "9"\n',
    'id = "a"\ndescription = """\nversion = "9"\n"""\nversion = "1"\n',
    "id = 'a'\nversion = '1.2'\n",
    'id = "a\\u0062"\nversion = "1"\n',
    'tags = [\n  "x",\n]\nid = "a"\nversion = "3"\n',
])
def test_the_quick_manifest_reading_agrees_with_tomllib(text: str | None) -> None:
    import tomllib

    from cmqprep.paths import bundled_bank
    from cmqprep.services.launch import _top_keys

    bundled = text is None
    if text is None:
        text = (bundled_bank() / "pack.toml").read_text(encoding="utf-8")
    quick = _top_keys(text)
    assert quick is not None or not bundled  # the bundled manifest is read the quick way
    exact = tomllib.loads(text)
    if quick is not None:  # when it answers, it answers what tomllib says
        assert (quick["id"], quick["version"]) == (exact["id"], exact["version"])
    assert quick is not None or text.count('"""') or "'" in text or "\\u" in text or "[\n" in text

"""The launch fast path: open the app's context with plain sqlite3 when nothing needs doing.

Importing SQLAlchemy, the ORM and the models costs about 270 ms, so a database that is already
at the schema head, with the profile present and the bundled bank up to date, is read with
sqlite3 (profile, settings, bank version, home counts) and the home screen is painted first.
The engine is then opened by a background thread (AppContext.start_engine), which afterwards
warms the study modules and makes the day's automatic backup. Everything else (first run, a
migration, a bank to install or update, a new profile, URLs other than a plain SQLite file)
returns None here and takes services/context.open_context, as before.
"""

from __future__ import annotations

import random
import re
import sqlite3
from datetime import datetime
from pathlib import Path

from cmqprep.config import Clock, settings_from_rows
from cmqprep.db.light import open_reader, plain_sqlite_file
from cmqprep.services.context import AppContext
from cmqprep.services.counts import HomeCounts, sqlite_home_counts

MANIFEST = "pack.toml"  # as cmqprep.packs.native.MANIFEST (not imported: tomllib and items)


def fast_context(data_dir: Path, url: str, profile: str, clock: Clock,
                 rng: random.Random | None = None, bank_dir: Path | None = None,
                 ) -> AppContext | None:
    """A context whose engine opens in the background, or None when the full path is needed."""
    path = plain_sqlite_file(url)
    if path is None:
        return None
    con = open_reader(path)
    if con is None:
        return None
    try:
        if bank_dir is None:
            from cmqprep.paths import bundled_bank

            bank_dir = bundled_bank()
        row = con.execute("SELECT id FROM profiles WHERE name = ?", (profile,)).fetchone()
        if row is None or not bank_is_current(con, bank_dir):
            con.close()
            return None
        settings = settings_from_rows(dict(con.execute(
            "SELECT key, value FROM settings WHERE profile_id = ?", (row[0],)).fetchall()))
    except sqlite3.Error:
        con.close()
        return None
    now = clock()
    notices: list[str] = []

    def opener():  # type: ignore[no-untyped-def]
        from cmqprep.db.engine import open_database

        engine = open_database(url, data_dir, now, daily=False)
        with engine.connect():
            pass  # the pool's first connection, with its pragmas, before any key needs it
        return engine

    def then() -> None:
        import cmqprep.services.study  # noqa: F401  (warm: the first card should not wait)
        from cmqprep.services.backups import daily_backup

        daily_backup(path, data_dir / "backups", now, warn=notices.append)

    ctx = AppContext(None, data_dir, url, row[0], profile, settings, clock,  # type: ignore[arg-type]
                     rng or random.Random(), None, opener=opener, then=then)
    ctx.reader = con
    ctx.notices = notices
    return ctx


def bank_is_current(con: sqlite3.Connection, bank_dir: Path) -> bool:
    """True when ensure_bundled_bank would do nothing: no bundled bank, or one installed at the
    shipped version or newer. Anything unreadable says False (the full path reports it)."""
    manifest = bank_dir / MANIFEST
    if not manifest.is_file():
        return True
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return False
    found = _top_keys(text)
    if found is None:  # not the plain layout: let the TOML parser decide
        import tomllib

        try:
            found = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError):
            return False
    key, version = found.get("id"), found.get("version")
    if not isinstance(key, str) or not isinstance(version, str):
        return False
    have = con.execute("SELECT version FROM packs WHERE key = ?", (key,)).fetchone()
    try:
        return have is not None and _version_key(have[0]) >= _version_key(version)
    except (ValueError, AttributeError):
        return False


# A top-level `key = "plain string"` line of a TOML file, with an optional comment.
_PLAIN = re.compile(r'([A-Za-z0-9_-]+)[ \t]*=[ \t]*"([^"\\\x00-\x1f]*)"[ \t]*(?:#.*)?')


def _top_keys(text: str) -> dict[str, str] | None:
    """`id` and `version` from the lines before the first table, when every one of those lines
    is blank, a comment or a one-line assignment (as in the bundled manifest); None for
    anything else (multi-line values, other quoting, a repeated key), so that tomllib, which
    costs a few ms more at launch, reads the file exactly."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            break
        if not line or line.startswith("#"):
            continue
        m = _PLAIN.fullmatch(line)
        if m is None:
            if re.fullmatch(r"[A-Za-z0-9_-]+[ \t]*=[ \t]*[0-9]+[ \t]*(?:#.*)?", line):
                continue  # a plain integer (format = 1)
            return None
        if m.group(1) in out:
            return None
        out[m.group(1)] = m.group(2)
    return out if "id" in out and "version" in out else None


def _version_key(version: str) -> tuple[int, ...]:
    # The same order as cmqprep.packs.native.version_key (a test checks they agree).
    return tuple(int(p) for p in version.split("."))


def home_counts_now(ctx: AppContext, now: datetime) -> HomeCounts:
    """The home screen's counts (without the whole log's total, which it does not show): from
    the launch path's sqlite3 reader until the engine is ready, from the engine after that."""
    if ctx.reader is not None:
        if not ctx.engine_ready:
            con = ctx.reader
            con.execute("BEGIN")  # one snapshot for all the counts
            try:
                return sqlite_home_counts(con, ctx.profile_id, ctx.profile_name, ctx.settings,
                                          now, with_total=False)
            finally:
                con.execute("COMMIT")
        ctx.reader.close()
        ctx.reader = None
    from cmqprep.services.stats import home_counts

    return home_counts(ctx.engine, ctx.profile_id, ctx.profile_name, ctx.settings, now,
                       with_total=False)

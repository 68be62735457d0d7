"""What opening the database at launch needs without SQLAlchemy: the schema head, the default
file name, and a plain sqlite3 reader for a database that is already at that head."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

HEAD = "0004"
"""The newest migration; a test checks it matches the Alembic scripts."""

DB_FILENAME = "cmqprep.sqlite"


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DB_FILENAME}"


def plain_sqlite_file(url: str) -> Path | None:
    """The file behind a plain `sqlite:///PATH` URL, or None for anything else (other drivers,
    in-memory databases, URL query options): those take the full SQLAlchemy path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url:
        return None
    rest = url[len(prefix):]
    if not rest or rest == ":memory:":
        return None
    return Path(rest)


def open_reader(path: Path) -> sqlite3.Connection | None:
    """A read-only sqlite3 connection to a cmqprep database whose schema is at HEAD, or None when
    the file is missing, not writable by us, not at HEAD or unreadable (the full path then opens,
    migrates or explains it)."""
    if not path.is_file() or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return None
    try:
        # uri=True with mode=rw: never create a file here (the full path owns creation).
        con = sqlite3.connect(f"file:{_quote(path)}?mode=rw", uri=True, timeout=10,
                              isolation_level=None, check_same_thread=True)
    except sqlite3.Error:
        return None
    try:
        con.execute("PRAGMA busy_timeout=10000")
        con.execute("PRAGMA query_only=1")  # this connection only ever reads
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None or row[0] != HEAD:
            con.close()
            return None
        if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            con.close()  # never opened by cmqprep's engine yet: let it set the pragmas
            return None
    except sqlite3.Error:
        con.close()
        return None
    return con


def _quote(path: Path) -> str:
    # The URI form needs '?' and '#' escaped in the file name; '%' itself first.
    return str(path.resolve()).replace("%", "%25").replace("?", "%3f").replace("#", "%23")

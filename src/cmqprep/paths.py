"""Where cmqprep keeps its files: the data directory, the default database and the bundled bank."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "cmqprep"


def data_dir(cli_value: str | None = None) -> Path:
    """--data-dir, else $CMQPREP_DATA_DIR, else the platform's user data directory."""
    chosen = cli_value or os.environ.get("CMQPREP_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def database_url(cli_value: str | None, directory: Path) -> str:
    """--db, else $CMQPREP_DB, else the SQLite file in the data directory."""
    from cmqprep.db.engine import default_url

    return cli_value or os.environ.get("CMQPREP_DB") or default_url(directory)


def bundled_bank() -> Path:
    """The CMQ/OE pack shipped with cmqprep (inside the wheel, or in a source checkout)."""
    here = Path(__file__).resolve().parent
    installed = here / "question_bank" / "cmqoe"
    if installed.is_dir():
        return installed
    return here.parent.parent / "question_bank" / "cmqoe"

"""Opening cmqprep for one user action: the database, the profile, settings and the bundled bank."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmqprep.config import Clock, Settings
from cmqprep.domain.scheduling import to_ms

if TYPE_CHECKING:  # SQLAlchemy stays off the launch path (services/launch.py)
    from sqlalchemy import Engine


@dataclass(eq=False)
class AppContext:
    """Everything a command or the app needs: the engine, the profile, settings, clock and rng.

    The launch path (services/launch.py) builds one before the engine exists (engine=None and
    an `opener`): `engine` is then opened by a background thread, and reading it waits for that
    thread (starting it if it has not started yet). Everywhere else the engine is given."""

    # A property, set up below: reading it may wait for the background open (so not in repr).
    engine: Engine = field(repr=False)
    data_dir: Path
    url: str
    profile_id: int
    profile_name: str
    settings: Settings
    clock: Clock
    rng: random.Random
    bank_message: str | None = None  # what the start-up install/update of the bank did
    opener: Callable[[], Engine] | None = field(default=None, repr=False)
    then: Callable[[], None] | None = field(default=None, repr=False)  # after the open, same thread

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.reader: Any = None  # the launch path's sqlite3 connection, until the engine is up
        self.notices: list[str] = []  # warnings from the background (e.g. a failed backup)
        if not self._future.done() and self.opener is None:
            raise ValueError("AppContext needs an engine or an opener")

    def _get_engine(self) -> Engine:
        self.start_engine()
        return self._future.result()

    def _set_engine(self, value: Engine | None) -> None:
        self._future: Future[Engine] = Future()
        if value is not None:
            self._future.set_result(value)

    @property
    def engine_ready(self) -> bool:
        return self._future.done()

    def start_engine(self) -> None:
        """Open the engine in a background thread if that has not begun; `then` runs in the
        same thread once the engine is ready (the daily backup: it must not delay anything)."""
        with self._lock:
            opener, self.opener = self.opener, None
        if opener is None:
            return
        after = self.then

        def run() -> None:
            try:
                self._future.set_result(opener())
            except BaseException as exc:  # reported to whoever reads .engine
                self._future.set_exception(exc)
                return
            if after is not None:
                after()

        # Not a daemon: quitting at once still lets the day's backup finish its copy.
        threading.Thread(target=run, name="cmqprep-open", daemon=False).start()

    def engine_failure(self) -> BaseException | None:
        """The error that stopped the background open, once it has finished (else None)."""
        return self._future.exception() if self._future.done() else None


# A property over the dataclass field: the generated __init__ and dataclasses.replace() go
# through it, so a context made with an engine behaves exactly like a plain attribute.
AppContext.engine = property(AppContext._get_engine, AppContext._set_engine)  # type: ignore[assignment,method-assign]


def ensure_bundled_bank(engine: Engine, bank_dir: Path, now_ms: int) -> str | None:
    """Install the bundled bank if it is missing or older than the one shipped.

    Only pack.toml is read when nothing needs doing, so start-up stays fast.
    """
    from cmqprep.packs.errors import read_text
    from cmqprep.packs.native import MANIFEST, load_pack, parse_manifest, version_key
    from cmqprep.services.packs import install_pack, installed_version

    manifest_path = bank_dir / MANIFEST
    if not manifest_path.is_file():
        return None
    manifest, _, _ = parse_manifest(read_text(manifest_path, str(manifest_path)), str(manifest_path))
    have = installed_version(engine, manifest.id)
    if have is not None and version_key(have) >= version_key(manifest.version):
        return None
    summary = install_pack(engine, load_pack(bank_dir), now_ms)
    return " ".join(summary.lines()[:2])


def open_context(data_dir: Path, url: str, profile: str, clock: Clock,
                 rng: random.Random | None = None, create_profile: bool = True,
                 bank_dir: Path | None = None) -> AppContext:
    from cmqprep.db.engine import open_database
    from cmqprep.paths import bundled_bank
    from cmqprep.services.profiles import ensure_profile, load_settings

    now = clock()
    engine = open_database(url, data_dir, now)
    message = ensure_bundled_bank(engine, bank_dir or bundled_bank(), to_ms(now))
    pid = ensure_profile(engine, profile, to_ms(now), create=create_profile)
    return AppContext(engine, data_dir, url, pid, profile, load_settings(engine, pid), clock,
                      rng or random.Random(), message)

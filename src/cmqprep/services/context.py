"""Opening cmqprep for one user action: the database, the profile, settings and the bundled bank."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from cmqprep.config import Clock, Settings
from cmqprep.domain.scheduling import to_ms


@dataclass
class AppContext:
    engine: Engine
    data_dir: Path
    url: str
    profile_id: int
    profile_name: str
    settings: Settings
    clock: Clock
    rng: random.Random
    bank_message: str | None = None  # what the start-up install/update of the bank did


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

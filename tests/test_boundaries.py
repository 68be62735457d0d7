"""Layer boundaries from ARCHITECTURE.md, checked by importing modules in a clean interpreter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import cmqprep

LOWER = ("cmqprep.domain", "cmqprep.packs", "cmqprep.db", "cmqprep.services")
PURE = ("cmqprep.domain", "cmqprep.packs")


def modules_under(prefix: str) -> list[str]:
    pkg = __import__(prefix, fromlist=["_"])
    return [prefix] + [f"{prefix}.{m.name}" for m in pkgutil.walk_packages(pkg.__path__)
                       if not m.name.startswith("migrations")]


def imported_by(module: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_lower_layers_never_import_textual() -> None:
    for prefix in LOWER:
        for module in modules_under(prefix):
            loaded = imported_by(module)
            assert not any(m == "textual" or m.startswith("textual.") for m in loaded), module


def test_pure_layers_never_import_sqlalchemy() -> None:
    for prefix in PURE:
        for module in modules_under(prefix):
            loaded = imported_by(module)
            assert not any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in loaded), module


def test_importing_the_cli_opens_nothing_heavy() -> None:
    loaded = imported_by("cmqprep.cli")
    assert not {"textual", "sqlalchemy", "alembic", "fsrs"} & loaded
    assert cmqprep.__version__

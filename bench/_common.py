"""Shared benchmark helpers: the fixed clock, timing statistics, the result table, the cache."""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT / "src"))

# Every benchmark runs at this instant, so "due now" means the same thing on every run.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


class SteppingClock:
    """A clock that moves a few seconds per call, like a learner answering cards."""

    def __init__(self, start: datetime = NOW, step_s: float = 7.0):
        self.now, self.step_s = start, step_s

    def __call__(self) -> datetime:
        from datetime import timedelta

        self.now += timedelta(seconds=self.step_s)
        return self.now


def quantiles(samples_ms: list[float]) -> tuple[float, float]:
    """(median, p95) of samples in milliseconds."""
    s = sorted(samples_ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return statistics.median(s), p95


def time_calls(fn: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}")


class Table:
    """Rows of (measure, median, p95, floor median, target) printed and saved side by side."""

    def __init__(self, name: str, title: str):
        self.name, self.title = name, title
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.notes: list[str] = []

    def add(self, label: str, samples: list[float] | None, floor: list[float] | None = None,
            target: str = "", unit: str = "ms", single: float | None = None) -> None:
        if samples is not None:
            med, p95 = quantiles(samples)
        else:
            med = p95 = single if single is not None else float("nan")
        fmed = quantiles(floor)[0] if floor else None
        ratio = f"{med / fmed:.1f}x" if fmed else ""
        fl = f"{fmed:.3f}" if fmed is not None else ""
        n = f" (n={len(samples)})" if samples is not None else ""
        self.rows.append((label + n, f"{med:.3f} {unit}", f"{p95:.3f} {unit}", fl, ratio, target))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        head = ("measure", "median", "p95", "sqlite3 floor median", "ratio", "target")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
        out = [f"{self.title}", f"machine: {machine()}",
               f"run: {datetime.now().strftime('%Y-%m-%d %H:%M')}", "", line(head),
               line(tuple("-" * w for w in widths))]
        out += [line(r) for r in self.rows]
        if self.notes:
            out.append("")
            out += self.notes
        return "\n".join(out) + "\n"

    def emit(self) -> None:
        text = self.render()
        print(text)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{self.name}.txt").write_text(text)


def working_copy(src: Path) -> Path:
    """A private copy of the cached database (benchmarks that write must not change the cache)."""
    tmp = Path(tempfile.mkdtemp(prefix="cmqbench-"))
    # Removed when the script ends: each copy is ~290 MB, and leftover copies filled /tmp and
    # evicted the cached database from the page cache, which skewed later runs.
    atexit.register(shutil.rmtree, tmp, True)
    dest = tmp / src.name
    shutil.copyfile(src, dest)
    return dest


def rss_mb() -> float:
    """This process's resident set size now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

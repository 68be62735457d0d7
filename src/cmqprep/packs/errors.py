"""Located problems in pack files and the one exception pack readers raise."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    line: int | None = None
    item: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        item = f" item {self.item}:" if self.item else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}:{item} {tag}{self.message}"


class PackError(Exception):
    """A pack could not be read. Carries every problem found, each with its location."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest pack file read (16 MiB); larger files are refused before they are read."""

MAX_ITEMS = 250_000
"""Most items one pack may hold."""


def open_regular(path: Path, display: str) -> BinaryIO:
    """Open a regular file for reading after checking its size, or raise PackError.

    The checks run on the opened file itself (fstat), so a file swapped after a check is still
    caught; O_NONBLOCK keeps a FIFO or device planted under a pack's name from blocking the
    open, and anything but a regular file is refused before a byte is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PackError([Problem(display, f"cannot read: {exc.strerror or exc}")]) from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "not a regular file (a folder, device or pipe); give a pack file"
    elif info.st_size > MAX_FILE_BYTES:
        problem = f"file is {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"
    if problem:
        os.close(fd)
        raise PackError([Problem(display, problem)])
    return os.fdopen(fd, "rb")


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file (a BOM is allowed) within the size limit, or raise PackError."""
    with open_regular(path, display) as fh:
        try:
            data = fh.read(MAX_FILE_BYTES + 1)  # never more than the limit, even if it grew
        except OSError as exc:
            raise PackError([Problem(display, f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise PackError([Problem(display, f"file is over the limit of {MAX_FILE_BYTES:,} "
                                          f"bytes")])
    return decode_text(data, display)


def decode_text(data: bytes, display: str) -> str:
    """Decode UTF-8 (with or without BOM); NUL bytes and bad encodings are located errors."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PackError([Problem(display, "not valid UTF-8 text (save the file as UTF-8)",
                                 line=line)]) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise PackError([Problem(display, "contains a NUL byte; is this a binary file?",
                                 line=text.count("\n", 0, nul) + 1)])
    return text.replace("\r\n", "\n").replace("\r", "\n")

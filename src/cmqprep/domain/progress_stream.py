"""Reading a progress export as a stream: the summary first, then the review log in chunks.

A full export of a million reviews is a 200 MB document; holding it decoded takes a gigabyte.
Here a small scanner walks the top-level object by hand, and the review array is decoded about
a megabyte at a time by the C JSON decoder (everything up to the last `},` read), with a
review-by-review walk wherever that does not apply (the end of the array, an odd layout, or to
locate an error). Memory stays at a few blocks whatever the file's length.

The messages are the ones `progress.parse` gives for the whole document. A file laid out
otherwise than cmqprep writes it (members after the review log, a top level that is not an
object, a malformed top-level structure) raises NotStreamable, and the caller reads it whole
with `progress.parse`, which then gives its exact verdict. Nothing here reads the disk or the
clock: bytes come from the `read` callable given.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from typing import Any

from cmqprep.domain.progress import (
    CLOCK_SKEW_MS,
    ProgressDoc,
    ProgressError,
    Review,
    check_header,
    iso_ms,
    make_review,
    review_failure,
    review_predicate,
    review_values,
)
from cmqprep.domain.progress_schema import MAX_REVIEWS

BLOCK = 1 << 20  # bytes read at a time
_AHEAD = 1 << 16  # text kept ahead of the reading position, so a review is never cut
_SAFE = 64  # an error this close to the end of the text read so far may only mean "read more"
_WS = " \t\n\r"
_HEADER = frozenset({"schema", "schema_version", "app_version", "exported_at", "kind", "member",
                     "packs", "areas", "activity", "attempts"})


class NotStreamable(Exception):
    """The file is not laid out as cmqprep writes it: read it whole instead."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


class ExportStream:
    """One pass over an export: `header()` first, then `reviews()` for a full export."""

    def __init__(self, read: Callable[[int], bytes], source: str, now_ms: int,
                 block: int = BLOCK, ahead: int = _AHEAD):
        self.read, self.source, self.now_ms = read, source, now_ms
        self.block, self.ahead = block, ahead  # small values in tests move every boundary
        self._decoder = json.JSONDecoder(parse_constant=_reject_constant)
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._buf, self._pos, self._eof = "", 0, False
        self._bytes = 0  # bytes read so far
        self._lines = 0  # newlines in the text already dropped from the buffer
        self._col = 0  # characters of the current line already dropped
        self._started = False
        self._gen = 0  # counts the text appended, so a fruitless batch search is not redone
        self._miss = -1
        self.doc: ProgressDoc | None = None
        self._latest_ms = 0
        self.count = 0  # reviews read, repeats included

    # ---- the text buffer ----------------------------------------------------------------------

    def _fill(self, want: int | None = None) -> bool:
        """Read until `want` characters (default: the look-ahead) lie ahead of the position or
        the file ends."""
        want = self.ahead if want is None else want
        grew = False
        while not self._eof and len(self._buf) - self._pos < want:
            data = self.read(self.block)
            pending = len(self._utf8.getstate()[0])
            try:
                text = self._utf8.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise ProgressError(
                    f"{self.source}: not UTF-8 text (byte {self._bytes - pending + exc.start}); "
                    f"a progress export is a JSON file written by 'cmqprep progress export'"
                ) from None
            self._bytes += len(data)
            self._eof = not data
            if not self._started and (text or self._eof):
                self._started = True
                text = text.removeprefix("\ufeff")
            if self._pos:
                self._drop()
            self._buf += text
            if text:
                grew = True
                self._gen += 1
        return grew

    def _drop(self) -> None:
        cut, buf = self._pos, self._buf
        newlines = buf.count("\n", 0, cut)
        if newlines:
            self._lines += newlines
            self._col = cut - buf.rfind("\n", 0, cut) - 1
        else:
            self._col += cut
        self._buf, self._pos = buf[cut:], 0

    def _where(self, pos: int) -> tuple[int, int]:
        """(line, column), both from 1, of a position in the buffer, as json reports them."""
        nl = self._buf.rfind("\n", 0, pos)
        line = self._lines + self._buf.count("\n", 0, pos) + 1
        return line, (pos - nl if nl >= 0 else self._col + pos + 1)

    def _json_error(self, pos: int, msg: str) -> ProgressError:
        line, col = self._where(pos)
        if self._eof and (pos >= len(self._buf.rstrip()) or msg.startswith("Unterminated string")):
            return ProgressError(f"{self.source}: the JSON ends early (line {line}): the file is "
                                 f"truncated; export it again")
        return ProgressError(f"{self.source}:{line}: not valid JSON: {msg} (column {col})")

    def _skip_ws(self) -> str:
        """Skip whitespace; the next character, or '' at the end of the file."""
        while True:
            buf, pos = self._buf, self._pos
            n = len(buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self._pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def _value(self) -> Any:
        """Decode the JSON value at the position, reading more while it may be cut short."""
        self._fill()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if not self._eof and (exc.pos >= len(self._buf) - _SAFE
                                      or exc.msg.startswith("Unterminated string")):
                    self._fill(2 * (len(self._buf) - self._pos) + self.block)
                    continue
                raise self._json_error(exc.pos, exc.msg) from None
            except RecursionError:
                raise ProgressError(f"{self.source}: not a progress export: the JSON is nested "
                                    f"too deeply") from None
            except ValueError as exc:  # NaN and friends, integers over the digit limit
                raise ProgressError(f"{self.source}: not valid JSON: {exc}") from None
            if end >= len(self._buf) - _SAFE and not self._eof:  # a number may go on
                self._fill(2 * (len(self._buf) - self._pos) + self.block)
                continue
            self._pos = end
            return value

    # ---- the summary ----------------------------------------------------------------------------

    def header(self) -> ProgressDoc:
        """Read and check everything before the review log (all of a summary-only export)."""
        if self._skip_ws() != "{":
            raise NotStreamable
        self._pos += 1
        doc: dict[str, Any] = {}
        ch = self._skip_ws()
        while ch != "}":
            if ch != '"':
                raise NotStreamable
            key = self._value()
            if self._skip_ws() != ":":
                raise NotStreamable
            self._pos += 1
            if key == "reviews" and self._skip_ws() == "[":
                if not _HEADER <= doc.keys():
                    raise NotStreamable  # summary members after the log
                self._pos += 1
                doc["reviews"] = []  # stands in for the log while the summary is checked
                return self._checked(doc, streaming=True)
            self._skip_ws()
            doc[key] = self._value()
            ch = self._skip_ws()
            if ch == ",":
                self._pos += 1
                ch = self._skip_ws()
            elif ch != "}":
                raise NotStreamable
        self._pos += 1
        self._expect_end()
        return self._checked(doc, streaming=False)

    def _checked(self, doc: dict[str, Any], streaming: bool) -> ProgressDoc:
        checked = check_header(doc, self.source, self.now_ms)
        self._latest_ms = min(self.now_ms, checked.exported_ms) + CLOCK_SKEW_MS
        self.doc = checked
        return checked

    def _expect_end(self) -> None:
        if self._skip_ws() != "":
            raise self._json_error(self._pos, "Extra data")

    # ---- the review log -------------------------------------------------------------------------

    def reviews(self, chunk: int = 5000) -> Iterator[tuple[int, list[Review]]]:
        """(index of the first, reviews) in file order, each checked against the schema and the
        export time. After the last one the rest of the file is checked too."""
        ch = self._skip_ws()
        if ch == "]":
            self._pos += 1
            self._after_log()
            return
        while True:
            block, more = self._block(chunk)
            if block:
                yield self._checked_reviews(block)
            if not more:
                break
        self._after_log()

    def _block(self, chunk: int) -> tuple[list[Any], bool]:
        """Up to about `chunk` raw review values; False once the array's `]` is read."""
        out: list[Any] = []
        while len(out) < chunk:
            self._fill()
            batch = self._lines_batch()
            if batch is not None:
                out.extend(batch)
                continue
            out.append(self._value())
            ch = self._skip_ws()
            if ch == ",":
                self._pos += 1
                self._skip_ws()
            elif ch == "]":
                self._pos += 1
                return out, False
            else:
                raise self._json_error(self._pos, "Expecting ',' delimiter")
        return out, True

    def _lines_batch(self) -> list[Any] | None:
        """The reviews ahead up to the last `},` read so far, decoded at once when they are a
        plain run of objects. A cut that falls inside a string or a nested object only makes
        the decode fail (and the walk go review by review); one that succeeds decodes exactly
        the file's own values, since decoding from a value boundary splits the text the same
        way."""
        if self._miss == self._gen:
            return None  # no new text since the last try
        buf, pos = self._buf, self._pos
        end = buf.rfind("},", pos, len(buf) - _SAFE)
        if end < 0 or buf[pos:pos + 1] != "{":
            self._miss = self._gen
            return None
        try:
            values = self._decoder.decode("[" + buf[pos:end + 1] + "]")
        except (ValueError, RecursionError):
            self._miss = self._gen
            return None  # not a plain run of objects: review by review finds out why
        self._pos = end + 2
        self._skip_ws()
        return values

    def _checked_reviews(self, block: list[Any]) -> tuple[int, list[Review]]:
        first = self.count
        self.count += len(block)
        if self.count > MAX_REVIEWS:
            raise ProgressError(f"{self.source}: reviews: has more than {MAX_REVIEWS} entries")
        ok = review_predicate()
        if not all(map(ok, block)):
            for i, entry in enumerate(block, first):
                if not ok(entry):
                    raise ProgressError(f"{self.source}: {review_failure(i, entry)}")
        out = list(map(make_review, map(review_values, block)))
        if max(r.at_ms for r in out) > self._latest_ms:
            i, r = next((i, r) for i, r in enumerate(out, first) if r.at_ms > self._latest_ms)
            raise ProgressError(f"{self.source}: review {i} (id {r.id}): its time "
                                f"{iso_ms(r.at_ms)} is after the export time or in the future")
        return first, out

    def _after_log(self) -> None:
        ch = self._skip_ws()
        if ch == ",":
            raise NotStreamable  # more members after the log
        if ch != "}":
            if ch == "":
                raise self._json_error(self._pos, "Expecting ',' delimiter")
            raise NotStreamable
        self._pos += 1
        self._expect_end()

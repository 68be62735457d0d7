"""The streamed export reader (domain/progress_stream.py) and the streamed import: the same
verdicts, reviews and messages as reading the whole document, at every buffer boundary."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmqprep.domain.progress import ProgressError, Review, encode, parse
from cmqprep.domain.progress_stream import ExportStream, NotStreamable
from cmqprep.services import progress as progress_service
from cmqprep.services.progress import import_progress
from tests.test_fuzz_parsers import edited

HOSTILE = Path(__file__).parent / "hostile" / "progress"
BASE = json.loads((HOSTILE / "valid-baseline.json").read_text())
NOW_MS = 1_772_463_600_000  # conftest START
SRC = "x.json"


def make_doc(n: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    r0 = BASE["reviews"][0]
    reviews = [dict(r0, id=f"{rng.getrandbits(128):032x}", item=rng.choice(["q1", "q2", "t1"]),
                    at_ms=r0["at_ms"] + k * 60_000, rating=rng.randint(1, 4))
               for k in range(n)]
    return dict(BASE, reviews=reviews)


def layouts(doc: dict) -> dict[str, bytes]:
    head = {k: v for k, v in doc.items() if k != "reviews"}
    ours = written(doc)
    return {
        "ours": ours,
        "one-line": json.dumps(doc).encode(),
        "indent-1": json.dumps(doc, indent=1).encode(),  # a review spans lines
        "crlf": ours.replace(b"\n", b"\r\n"),
        "bom": "\ufeff".encode() + ours,
        "log-first": json.dumps({"reviews": doc["reviews"], **head}).encode(),
        "member-after-log": json.dumps(doc).encode()[:-1] + b', "attempts": []}',  # a repeat
    }


def written(doc: dict) -> bytes:
    """The layout `encode` writes (one review per line), for any entries, valid or not."""
    head = json.dumps({k: v for k, v in doc.items() if k != "reviews"}, indent=2)
    lines = ",\n    ".join(json.dumps(r) for r in doc["reviews"])
    return (head[:-2] + ',\n  "reviews": [\n    ' + lines + "\n  ]\n}\n").encode()


def test_the_layout_helper_is_what_encode_writes() -> None:
    doc = make_doc(3)
    head = {k: v for k, v in doc.items() if k != "reviews"}
    assert written(doc) == "".join(encode(head, (Review(**r) for r in doc["reviews"]))).encode()


def whole(data: bytes) -> tuple:
    try:
        d = parse(data, SRC, NOW_MS)
    except ProgressError as exc:
        return ("refused", str(exc))
    return ("ok", d.kind, d.summary, d.reviews)


def dedupe(reviews: list[Review]) -> list[Review]:
    """The file's repeats, as the merge drops or refuses them."""
    first: dict[str, tuple[int, Review]] = {}
    out = []
    for i, r in enumerate(reviews):
        j, old = first.setdefault(r.id, (i, r))
        if j == i:
            out.append(r)
        elif old != r:
            raise ProgressError(f"{SRC}: review {i} (id {r.id}): review {j} has the same id "
                                f"and different content")
    return out


def streamed(data: bytes, block: int = 1 << 20, ahead: int = 1 << 16, chunk: int = 5000
             ) -> tuple:
    s = ExportStream(io.BytesIO(data).read, SRC, NOW_MS, block, ahead)
    try:
        head = s.header()
        reviews: list[Review] | None = None
        if head.kind == "full":
            reviews = []
            for first, part in s.reviews(chunk):
                assert first == len(reviews)
                reviews.extend(part)
            reviews = dedupe(reviews)
    except NotStreamable:
        return whole(data)
    except ProgressError as exc:
        return ("refused", str(exc))
    return ("ok", head.kind, head.summary, reviews)


BLOCKS = st.sampled_from([1, 2, 3, 7, 64, 333, 4096, 1 << 20])
AHEAD = st.sampled_from([1, 5, 100, 1 << 16])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 99), block=BLOCKS, ahead=AHEAD,
       chunk=st.integers(1, 50))
def test_every_layout_streams_to_what_the_whole_document_gives(n, seed, block, ahead,
                                                               chunk) -> None:
    for name, data in layouts(make_doc(n, seed)).items():
        want = whole(data)
        assert want[0] == "ok", (name, want)
        assert streamed(data, block, ahead, chunk) == want, name


def test_only_unusual_layouts_are_read_whole() -> None:
    data = layouts(make_doc(5))
    for name in ("ours", "one-line", "indent-1", "crlf", "bom"):
        s = ExportStream(io.BytesIO(data[name]).read, SRC, NOW_MS)
        s.header()
        assert sum(len(part) for _, part in s.reviews()) == 5, name
    with pytest.raises(NotStreamable):
        ExportStream(io.BytesIO(data["log-first"]).read, SRC, NOW_MS).header()
    s = ExportStream(io.BytesIO(data["member-after-log"]).read, SRC, NOW_MS)
    s.header()
    with pytest.raises(NotStreamable):
        list(s.reviews())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), block=BLOCKS, ahead=AHEAD)
def test_edited_files_get_the_same_verdict(data, block, ahead) -> None:
    text = "".join(encode({k: v for k, v in make_doc(0).items() if k != "reviews"},
                          (Review(**r) for r in make_doc(12)["reviews"])))
    raw = data.draw(edited(text))
    want, got = whole(raw), streamed(raw, block, ahead, chunk=5)
    assert got[0] == want[0], (want, got)
    if want[0] == "ok":
        assert got == want
    else:
        assert got[1].startswith(SRC)


def test_a_cut_anywhere_gives_the_whole_document_message() -> None:
    text = "".join(encode({k: v for k, v in make_doc(0).items() if k != "reviews"},
                          (Review(**r) for r in make_doc(30)["reviews"]))).encode()
    for cut in range(0, len(text), 37):
        want = whole(text[:cut])
        assert want[0] == "refused"
        for block, ahead in ((1 << 20, 1 << 16), (5, 3)):
            assert streamed(text[:cut], block, ahead, chunk=4) == want, cut


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xe2\x82"])
def test_bad_utf8_is_located_at_the_same_byte(bad: bytes) -> None:
    text = "".join(encode({k: v for k, v in make_doc(0).items() if k != "reviews"},
                          (Review(**r) for r in make_doc(30)["reviews"]))).encode()
    for at in (10, len(text) // 2, len(text) - 40):
        data = text[:at] + bad + text[at + len(bad):]
        want = whole(data)
        assert "not UTF-8 text" in want[1]
        for block in (1, 3, 1000, 1 << 20):
            assert streamed(data, block, 7, chunk=4) == want


def test_a_bad_review_is_named_as_the_whole_document_names_it() -> None:
    doc = make_doc(40)
    for k, (field, value) in enumerate([("rating", 7), ("source", "cram"), ("at_ms", 1.5),
                                        ("id", "nope"), ("extra", 1)]):
        bad = json.loads(json.dumps(doc))
        bad["reviews"][8 * k + 3][field] = value
        for name, data in layouts(bad).items():
            want = whole(data)
            assert want[0] == "refused" and f"review {8 * k + 3}" in want[1]
            assert streamed(data, 64, 5, chunk=6) == want, name


# ---- the streamed import ----------------------------------------------------------------------

def _file(tmp_path: Path, doc: dict, name: str = "in.json") -> Path:
    path = tmp_path / name
    head = {k: v for k, v in doc.items() if k != "reviews"}
    path.write_text("".join(encode(head, (Review(**r) for r in doc["reviews"]))))
    return path


def _doc_for_mini(n: int) -> dict:
    doc = make_doc(n)
    for k, r in enumerate(doc["reviews"]):
        r["item"] = ["q1", "q2", "q3", "t1", "t2"][k % 5]
        r["pack"] = "mini"
        if r["item"].startswith("t"):
            r["chosen"] = r["correct"] = None
    return doc


def _dump(ctx) -> list[str]:
    import sqlite3

    con = sqlite3.connect(ctx.engine.url.database)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(progress_service, "CHUNK_REVIEWS", 7)


def test_repeats_across_chunks_are_dropped_and_reimport_finds_all_present(
        ctx, tmp_path, small_chunks) -> None:
    doc = _doc_for_mini(60)
    doc["reviews"] += [dict(doc["reviews"][k]) for k in (0, 5, 30)]  # exact repeats, later on
    path = _file(tmp_path, doc)
    r = import_progress(ctx.engine, ctx.profile_id, ctx.settings, path, ctx.clock())
    assert (r.in_file, r.added, r.present, r.rebuilt) == (60, 60, 0, 5)
    again = import_progress(ctx.engine, ctx.profile_id, ctx.settings, path, ctx.clock())
    assert (again.in_file, again.added, again.present) == (60, 0, 60)


def test_a_changed_repeat_in_a_later_chunk_names_both_reviews(ctx, tmp_path,
                                                             small_chunks) -> None:
    doc = _doc_for_mini(40)
    doc["reviews"].append(dict(doc["reviews"][9], duration_ms=1))
    before = _dump(ctx)
    with pytest.raises(ProgressError, match=r"review 40 \(id [0-9a-f]{32}\): review 9 has the "
                                            r"same id and different content"):
        import_progress(ctx.engine, ctx.profile_id, ctx.settings, _file(tmp_path, doc),
                        ctx.clock())
    assert _dump(ctx) == before


def test_a_bad_review_at_the_end_of_a_long_file_changes_nothing(ctx, tmp_path,
                                                               small_chunks) -> None:
    doc = _doc_for_mini(100)
    doc["reviews"][99]["rating"] = 9
    before = _dump(ctx)
    with pytest.raises(ProgressError, match="review 99 .*rating: 9 is not one of"):
        import_progress(ctx.engine, ctx.profile_id, ctx.settings, _file(tmp_path, doc),
                        ctx.clock())
    assert _dump(ctx) == before


def test_a_file_read_whole_imports_the_same(ctx, tmp_path) -> None:
    """A hand-made layout (summary members after the log) takes the whole-document path and
    gives the same log and schedule as the streamed one."""
    doc = _doc_for_mini(30)
    plain = _file(tmp_path, doc)
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"reviews": doc["reviews"],
                               **{k: v for k, v in doc.items() if k != "reviews"}}))
    r1 = import_progress(ctx.engine, ctx.profile_id, ctx.settings, odd, ctx.clock())
    first = _dump(ctx)
    r2 = import_progress(ctx.engine, ctx.profile_id, ctx.settings, plain, ctx.clock())
    assert (r1.added, r2.added, r2.present) == (30, 0, 30)
    assert _dump(ctx) == first

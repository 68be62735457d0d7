"""Progress export and import: the file, merging (properties), refusals that change nothing."""

from __future__ import annotations

import json
import random
import socket
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from cmqprep.cli import main
from cmqprep.db.engine import default_url, read_session, write_session
from cmqprep.db.models import GroupMemberRow, ItemRow, PackRow, ReviewRow, ScheduleRow
from cmqprep.domain.progress import ProgressError, Review, encode, iso_ms, summary_document
from cmqprep.domain.progress_schema import SCHEMA, compile_schema
from cmqprep.domain.scheduling import Grade, SchedulerConfig, replay, to_ms
from cmqprep.packs.native import load_pack
from cmqprep.services import progress as progress_service
from cmqprep.services.context import open_context
from cmqprep.services.packs import install_pack
from cmqprep.services.progress import export_progress, import_progress
from cmqprep.services.study import StudySession
from tests.conftest import SMALL_MANIFEST, START, question, write_pack

ROOT = Path(__file__).resolve().parents[1]
STATE = ("state", "step", "stability", "difficulty", "due_ms", "last_review_ms", "reps", "lapses")


def study(ctx, n: int, seed: int = 1) -> None:
    """Answer n cards, a minute apart, some wrong."""
    session = StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock,
                           random.Random(seed))
    rng = random.Random(seed)
    done = 0
    while done < n:
        card = session.next_card()
        if card is None:
            ctx.clock.advance(days=1)
            continue
        done += 1
        ctx.clock.advance(minutes=1)
        if card.kind == "question":
            right = rng.random() < 0.7
            session.answer_choice(card, card.answer if right else (card.answer + 1) % 4, 5000)
        else:
            session.rate(card, Grade(rng.randint(1, 4)), 3000)


def schedule(ctx, profile_id: int | None = None) -> dict[tuple[str, str], tuple]:
    """Schedule state by (pack key, item key): comparable across databases."""
    pid = profile_id or ctx.profile_id
    with read_session(ctx.engine) as s:
        rows = s.execute(select(PackRow.key, ItemRow.key, ScheduleRow)
                         .join(ItemRow, ItemRow.id == ScheduleRow.item_id)
                         .join(PackRow, PackRow.id == ItemRow.pack_id)
                         .where(ScheduleRow.profile_id == pid)).all()
        return {(p, k): tuple(getattr(r, c) for c in STATE) for p, k, r in rows}


def dump(ctx) -> tuple:
    """Everything an import or a group command could change."""
    with read_session(ctx.engine) as s:
        reviews = sorted(tuple(getattr(r, c.key) for c in ReviewRow.__table__.columns)
                         for r in s.scalars(select(ReviewRow)))
        sched = sorted(tuple(getattr(r, c.key) for c in ScheduleRow.__table__.columns)
                       for r in s.scalars(select(ScheduleRow)))
        group = sorted((r.member_id, r.name, r.exported_ms, r.summary)
                       for r in s.scalars(select(GroupMemberRow)))
    return reviews, sched, group


@pytest.fixture
def laptop(tmp_path: Path, clock, mini_pack: Path):
    """A second machine: its own database, the same pack, its own profile (member id)."""
    data = tmp_path / "laptop"
    ctx = open_context(data, default_url(data), "default", clock, random.Random(3),
                       bank_dir=mini_pack)
    ctx.settings = replace(ctx.settings, timezone="UTC")
    yield ctx
    ctx.engine.dispose()


def export(ctx, path: Path, **kw) -> Path:
    export_progress(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock(), path, **kw)
    return path


# ---- the file ------------------------------------------------------------------------------

def test_export_is_private_documented_and_leaks_nothing_else(ctx, tmp_path: Path) -> None:
    study(ctx, 12)
    path = export(ctx, tmp_path / "me.json")
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert compile_schema(SCHEMA)(doc) is None
    assert list(doc) == ["schema", "schema_version", "app_version", "exported_at", "kind",
                         "member", "packs", "areas", "activity", "attempts", "reviews"]
    assert doc["schema"] == "cmqprep-progress" and doc["schema_version"] == 1
    assert doc["exported_at"] == iso_ms(to_ms(ctx.clock()))
    assert doc["member"]["name"] == "default" and len(doc["member"]["id"]) == 32
    assert doc["packs"] == [{"key": "mini", "version": "1.0.0"}]
    assert [a["code"] for a in doc["areas"]] == ["I", "II"]
    assert doc["activity"]["reviews"] == len(doc["reviews"]) == 12
    assert doc["activity"]["streak_days"] == 1
    assert set(doc["reviews"][0]) == set(Review._fields)
    for secret in (str(tmp_path), str(ctx.data_dir), str(Path.home()), socket.gethostname()):
        assert secret not in text
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_summary_only_export_has_no_log_and_existing_files_need_force(ctx, tmp_path) -> None:
    study(ctx, 3)
    path = export(ctx, tmp_path / "me.json", summary_only=True)
    doc = json.loads(path.read_text())
    assert doc["kind"] == "summary" and "reviews" not in doc
    assert doc["activity"]["reviews"] == 3
    with pytest.raises(ProgressError, match="already exists; pass --force"):
        export(ctx, path)
    assert json.loads(path.read_text())["kind"] == "summary"  # untouched
    export(ctx, path, force=True)
    assert json.loads(path.read_text())["kind"] == "full"


def test_cli_export_and_import_report(tmp_path: Path, capsys, mini_pack) -> None:
    a = ["--data-dir", str(tmp_path / "a")]
    b = ["--data-dir", str(tmp_path / "b")]
    out = tmp_path / "a.json"
    assert main([*a, "progress", "export", "-o", str(out)]) == 0
    assert "Exported 0 reviews" in capsys.readouterr().out
    assert main([*a, "progress", "export", "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*b, "progress", "import", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0 reviews in the file: 0 added, 0 already here" in text
    assert main([*b, "progress", "import", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cmqprep: {tmp_path / 'missing.json'}: cannot read it")


# ---- merging -------------------------------------------------------------------------------

def test_export_then_import_into_an_empty_profile_reproduces_the_schedule(ctx, laptop,
                                                                          tmp_path) -> None:
    study(ctx, 40)
    before = schedule(ctx)
    assert len(before) == 5
    report = import_progress(laptop.engine, laptop.profile_id, laptop.settings,
                             export(ctx, tmp_path / "desk.json"), laptop.clock())
    assert (report.added, report.present, report.not_installed_reviews) == (40, 0, 0)
    assert not report.same_member
    assert schedule(laptop) == before


def test_both_machines_study_then_merge_both_ways_and_agree(ctx, laptop, tmp_path) -> None:
    study(ctx, 15, seed=1)
    study(laptop, 20, seed=2)
    desk_file, lap_file = export(ctx, tmp_path / "desk.json"), export(laptop, tmp_path / "l.json")
    r1 = import_progress(ctx.engine, ctx.profile_id, ctx.settings, lap_file, ctx.clock())
    r2 = import_progress(laptop.engine, laptop.profile_id, laptop.settings, desk_file,
                         laptop.clock())
    assert (r1.added, r2.added) == (20, 15)
    assert schedule(ctx) == schedule(laptop)
    again = dump(ctx)
    r3 = import_progress(ctx.engine, ctx.profile_id, ctx.settings, lap_file, ctx.clock())
    assert (r3.added, r3.present) == (0, 20) and dump(ctx) == again
    # The merged desk profile exports everything; the laptop already has all of it.
    r4 = import_progress(laptop.engine, laptop.profile_id, laptop.settings,
                         export(ctx, tmp_path / "merged.json"), laptop.clock())
    assert (r4.added, r4.present) == (0, 35)


def test_reviews_of_items_not_installed_are_kept_and_apply_when_the_pack_arrives(
        ctx, laptop, tmp_path) -> None:
    later = SMALL_MANIFEST.replace('id = "mini"', 'id = "later"')
    pack = load_pack(write_pack(tmp_path / "later", question("l1") + question("l2"), later))
    install_pack(laptop.engine, pack, to_ms(laptop.clock()))
    study(laptop, 30)
    lap_schedule = schedule(laptop)
    assert any(k[0] == "later" for k in lap_schedule)
    report = import_progress(ctx.engine, ctx.profile_id, ctx.settings,
                             export(laptop, tmp_path / "l.json"), ctx.clock())
    later_reviews = sum(1 for _ in _reviews_of(ctx, "later"))
    assert later_reviews > 0 and report.not_installed_reviews == later_reviews
    assert report.not_installed_items == 2 and report.packs_missing == ["later"]
    assert not any(k[0] == "later" for k in schedule(ctx))
    summary = install_pack(ctx.engine, pack, to_ms(ctx.clock()))
    assert summary.applied_reviews == 2
    assert schedule(ctx) == lap_schedule


def _reviews_of(ctx, pack_key: str):
    with read_session(ctx.engine) as s:
        return list(s.scalars(select(ReviewRow.id).where(ReviewRow.pack_key == pack_key)))


def test_different_member_is_merged_with_a_note(ctx, laptop, tmp_path, capsys) -> None:
    from cmqprep.services.profiles import create_profile

    pid = create_profile(laptop.engine, "alex", to_ms(laptop.clock()))
    alex = replace(laptop, profile_id=pid, profile_name="alex")
    study(alex, 4)
    path = export(alex, tmp_path / "alex.json")
    report = import_progress(ctx.engine, ctx.profile_id, ctx.settings, path, ctx.clock())
    assert report.added == 4 and report.name == "alex" and report.profile_name == "default"


# ---- properties ----------------------------------------------------------------------------

ITEMS = [("mini", "q1"), ("mini", "q2"), ("mini", "q3"), ("mini", "t1"), ("mini", "t2"),
         ("gone", "x1")]
BASE = to_ms(START) - 90 * 86_400_000

reviews_strategy = st.lists(
    st.builds(lambda n, item, offset, rating, where: (n, item, offset, rating, where),
              st.integers(0, 2**64), st.sampled_from(ITEMS),
              st.integers(0, 4).map(lambda d: d * 86_400_000) | st.integers(0, 60 * 86_400_000),
              st.integers(1, 4), st.sampled_from(["a", "b", "both"])),
    max_size=30, unique_by=lambda r: r[0])


def _file(path: Path, reviews: list[Review], member: str = "ab" * 16) -> Path:
    doc = summary_document(app_version="0.1.0", exported_ms=to_ms(START), kind="full",
                           member_id=member, name="other", packs=[], areas=[],
                           activity={"reviews": len(reviews), "first_review_ms": None,
                                     "last_review_ms": None, "streak_days": 0}, attempts=[])
    path.write_text("".join(encode(doc, reviews)), encoding="utf-8")
    return path


def _reset(ctx) -> None:
    with write_session(ctx.engine) as s:
        s.execute(delete(ReviewRow))
        s.execute(delete(ScheduleRow))


def _expected(reviews: list[Review]) -> dict[tuple[str, str], tuple]:
    per: dict[tuple[str, str], list[Review]] = {}
    for r in reviews:
        per.setdefault((r.pack, r.item), []).append(r)
    out = {}
    for key, log in per.items():
        if key[0] != "mini":
            continue
        log.sort(key=lambda r: (r.at_ms, r.id))
        st_ = replay([(r.at_ms, Grade(r.rating)) for r in log], SchedulerConfig())
        out[key] = tuple(getattr(st_, c) for c in STATE)
    return out


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=reviews_strategy)
def test_merge_is_idempotent_order_independent_and_equals_replaying_the_union(
        ctx, tmp_path, raw) -> None:
    reviews = {w: [] for w in ("a", "b")}
    for n, (pack, item), offset, rating, where in raw:
        r = Review(uuid.UUID(int=n % 2**128).hex, pack, item, BASE + offset, rating, 1000,
                   "study", 0, None, None)
        for side in (("a", "b") if where == "both" else (where,)):
            reviews[side].append(r)
    fa, fb = _file(tmp_path / "a.json", reviews["a"]), _file(tmp_path / "b.json", reviews["b"])
    union = list({r.id: r for r in reviews["a"] + reviews["b"]}.values())

    def merge(*files: Path) -> tuple:
        _reset(ctx)
        for f in files:
            import_progress(ctx.engine, ctx.profile_id, ctx.settings, f, ctx.clock())
        return dump(ctx)

    ab = merge(fa, fb)
    assert schedule(ctx) == _expected(union)
    assert merge(fb, fa) == ab
    assert merge(fa, fb, fa, fb) == ab
    # export then import into the emptied profile reproduces the schedule exactly
    mine = schedule(ctx)
    out = export(ctx, tmp_path / "out.json", force=True)
    _reset(ctx)
    import_progress(ctx.engine, ctx.profile_id, ctx.settings, out, ctx.clock())
    assert schedule(ctx) == mine


# ---- refusals: each names the file and changes nothing ---------------------------------------

def _good(ctx, tmp_path: Path) -> dict:
    study(ctx, 6)
    doc = json.loads(export(ctx, tmp_path / "good.json", force=True).read_text())
    _reset(ctx)  # the file's reviews are new to the database again
    study(ctx, 3, seed=9)  # and the database has some of its own
    return doc


def _write(tmp_path: Path, doc: object, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def _refused(ctx, path: Path, *fragments: str) -> str:
    before = dump(ctx)
    with pytest.raises(ProgressError) as info:
        import_progress(ctx.engine, ctx.profile_id, ctx.settings, path, ctx.clock())
    message = str(info.value)
    assert message.startswith(f"{path}"), message
    for fragment in fragments:
        assert fragment in message, message
    assert dump(ctx) == before
    return message


def test_refuses_what_is_not_a_progress_export(ctx, tmp_path) -> None:
    _good(ctx, tmp_path)
    _refused(ctx, _write(tmp_path, {"hello": 1}), "not a cmqprep progress export")
    _refused(ctx, _write(tmp_path, [1, 2]), "not a cmqprep progress export")
    _refused(ctx, _write(tmp_path, "[" * 100_000 + "]" * 100_000), "nested too deeply")
    _refused(ctx, _write(tmp_path, "{\"a\": NaN}"), "not valid JSON")
    (tmp_path / "bin.json").write_bytes(b"{\"schema\": \"\xff\"}")
    _refused(ctx, tmp_path / "bin.json", "not UTF-8")


def test_refuses_a_truncated_file(ctx, tmp_path) -> None:
    text = json.dumps(_good(ctx, tmp_path), indent=2)
    _refused(ctx, _write(tmp_path, text[: len(text) // 2]), "truncated")


def test_refuses_a_newer_schema_version(ctx, tmp_path) -> None:
    doc = _good(ctx, tmp_path) | {"schema_version": 2, "new_field": []}
    _refused(ctx, _write(tmp_path, doc), "newer cmqprep", "version 2")


def test_refuses_unknown_ratings_naming_the_review(ctx, tmp_path) -> None:
    doc = _good(ctx, tmp_path)
    doc["reviews"][4]["rating"] = 5
    rid = doc["reviews"][4]["id"]
    _refused(ctx, _write(tmp_path, doc), f"review 4 (id {rid}): rating: 5 is not one of")


@pytest.mark.parametrize("field,value,fragment", [
    ("source", "cram", "source: 'cram' is not one of"),
    ("at_ms", 1.5e12, "at_ms: 1500000000000.0 is not integer"),
    ("duration_ms", -1, "below the minimum 0"),
    ("id", "ab" * 16 + "\n", "does not match"),
    ("correct", "yes", "correct: 'yes' is not boolean or null"),
    ("extra", 1, "unknown member 'extra'"),
])
def test_refuses_reviews_that_break_the_schema(ctx, tmp_path, field, value, fragment) -> None:
    doc = _good(ctx, tmp_path)
    doc["reviews"][1][field] = value
    _refused(ctx, _write(tmp_path, doc), "review 1", fragment)


def test_refuses_times_in_the_future_but_allows_a_little_clock_skew(ctx, tmp_path) -> None:
    doc = _good(ctx, tmp_path)
    now = to_ms(ctx.clock())
    doc["reviews"][2]["at_ms"] = now + 86_400_000
    _refused(ctx, _write(tmp_path, doc), "review 2", "in the future")
    doc["reviews"][2]["at_ms"] = now
    doc["exported_at"] = iso_ms(now + 86_400_000)
    _refused(ctx, _write(tmp_path, doc), "exported_at", "in the future")
    doc["exported_at"] = "2026-02-30T10:00:00.000Z"
    _refused(ctx, _write(tmp_path, doc), "not a real date")
    doc["exported_at"] = iso_ms(now + 60_000)  # the other machine's clock runs a minute fast
    doc["reviews"][2]["at_ms"] = now + 60_000
    report = import_progress(ctx.engine, ctx.profile_id, ctx.settings, _write(tmp_path, doc),
                             ctx.clock())
    assert report.added == 6


def test_duplicate_ids_in_the_file(ctx, tmp_path) -> None:
    doc = _good(ctx, tmp_path)
    changed = dict(doc["reviews"][0], rating=1 if doc["reviews"][0]["rating"] != 1 else 2)
    bad = dict(doc, reviews=doc["reviews"] + [changed])
    _refused(ctx, _write(tmp_path, bad), "review 6", "review 0 has the same id")
    same = dict(doc, reviews=doc["reviews"] + [dict(doc["reviews"][0])])
    report = import_progress(ctx.engine, ctx.profile_id, ctx.settings, _write(tmp_path, same),
                             ctx.clock())
    assert (report.in_file, report.added) == (6, 6)


def test_refuses_a_file_that_contradicts_the_stored_log(ctx, tmp_path) -> None:
    study(ctx, 5)
    doc = json.loads(export(ctx, tmp_path / "mine.json").read_text())
    study(ctx, 2)
    doc["reviews"][-1]["duration_ms"] += 1  # an edited file, whose new reviews also stay out
    doc["reviews"].insert(0, dict(doc["reviews"][0], id="f" * 32))
    _refused(ctx, _write(tmp_path, doc), "disagrees with the review log",
             "duration_ms")


def test_refuses_reviews_stored_under_another_profile(ctx, tmp_path) -> None:
    from cmqprep.services.profiles import create_profile

    study(ctx, 3)
    path = export(ctx, tmp_path / "mine.json")
    pid = create_profile(ctx.engine, "second", to_ms(ctx.clock()))
    before = dump(ctx)
    with pytest.raises(ProgressError, match="under the profile 'default'"):
        import_progress(ctx.engine, pid, ctx.settings, path, ctx.clock())
    assert dump(ctx) == before


def test_refuses_a_summary_only_export_and_oversized_files(ctx, tmp_path, monkeypatch) -> None:
    study(ctx, 3)
    path = export(ctx, tmp_path / "s.json", summary_only=True)
    _refused(ctx, path, "summary-only", "nothing to merge")
    monkeypatch.setattr(progress_service, "MAX_FILE_BYTES", 100)
    _refused(ctx, export(ctx, tmp_path / "f.json"), "over the 0 MiB limit")


def test_refuses_inconsistent_figures(ctx, tmp_path) -> None:
    doc = _good(ctx, tmp_path)
    doc["areas"][0]["mastered"] = doc["areas"][0]["items"] + 1
    _refused(ctx, _write(tmp_path, doc), "areas[0]", "mastered <= seen <= items")
    doc = _good(ctx, tmp_path)
    doc["kind"] = "summary"
    _refused(ctx, _write(tmp_path, doc), "a summary-only export must not carry a review log")


def test_cli_refusal_exit_code_and_message(tmp_path: Path, capsys) -> None:
    bad = _write(tmp_path, {"schema": "cmqprep-progress", "schema_version": 7})
    assert main(["--data-dir", str(tmp_path / "d"), "progress", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cmqprep: {bad}: made by a newer cmqprep") and "Traceback" not in err



# ---- the bulk rebuild agrees with schedule_store.rebuild --------------------------------------

@pytest.mark.parametrize("scan_above", [2000, 0])
def test_bulk_rebuild_writes_what_schedule_store_rebuild_writes(ctx, monkeypatch,
                                                                scan_above) -> None:
    from sqlalchemy import insert, update

    from cmqprep.services import bulk_rebuild
    from cmqprep.services.bulk_rebuild import installed_items, rebuild_bulk
    from cmqprep.services.schedule_store import rebuild

    monkeypatch.setattr(bulk_rebuild, "SCAN_ABOVE", scan_above)
    rng = random.Random(5)
    with write_session(ctx.engine) as s:
        for n in range(60):
            pack, item = rng.choice([k for k in ITEMS if k[1] != "t1"])  # t1: a stale row only
            # random ids: reviews at the same instant replay in id order, not insertion order
            s.add(ReviewRow(id=uuid.UUID(int=rng.getrandbits(128)).hex, profile_id=ctx.profile_id,
                            pack_key=pack, item_key=item, reviewed_ms=BASE + rng.randint(0, 9)
                            * 86_400_000, rating=rng.randint(1, 4), source="study"))
        ids = dict(s.execute(select(ItemRow.key, ItemRow.id)).all())
        s.execute(update(ItemRow).where(ItemRow.key == "q2").values(reset_ms=BASE + 5 * 86_400_000))
        s.execute(update(ItemRow).where(ItemRow.key == "q3").values(reset_ms=BASE + 99 * 86_400_000))
        stale = dict(state=2, stability=1.0, difficulty=5.0, due_ms=1, last_review_ms=1, reps=9,
                     lapses=0, profile_id=ctx.profile_id)
        s.execute(insert(ScheduleRow), [
            stale | dict(item_id=ids["q1"], area="I", suspended=True, flagged=False),
            stale | dict(item_id=ids["q3"], area="II", suspended=False, flagged=True),
            stale | dict(item_id=ids["t1"], area="II", suspended=False, flagged=False)])

    def rows() -> list[tuple]:
        with read_session(ctx.engine) as s:
            return sorted(tuple(getattr(r, c.key) for c in ScheduleRow.__table__.columns)
                          for r in s.scalars(select(ScheduleRow)))

    def restore(snapshot: list[tuple]) -> None:
        cols = [c.key for c in ScheduleRow.__table__.columns]
        with write_session(ctx.engine) as s:
            s.execute(delete(ScheduleRow))
            s.execute(insert(ScheduleRow), [dict(zip(cols, r)) for r in snapshot])

    start = rows()
    with write_session(ctx.engine) as s:
        n1 = rebuild(s, s.scalars(select(ItemRow)).all(), {ctx.profile_id: SchedulerConfig()},
                     ctx.profile_id)
    by_store = rows()
    restore(start)
    with write_session(ctx.engine) as s:
        conn = s.connection()
        items = installed_items(conn, ITEMS)
        assert len(items) == 5
        n2 = rebuild_bulk(conn, ctx.profile_id, items, SchedulerConfig())
    assert rows() == by_store and n1 == n2
    assert by_store != start
    cols = [c.key for c in ScheduleRow.__table__.columns]
    kept = {r[1]: dict(zip(cols, r)) for r in by_store}
    assert ids["t1"] not in kept  # no reviews: the row goes
    assert kept[ids["q3"]]["state"] == 0 and kept[ids["q3"]]["flagged"]  # all before the reset
    assert kept[ids["q1"]]["suspended"] and kept[ids["q1"]]["reps"] != 9


# ---- the schema, its checker and the pure helpers ----------------------------------------------

def test_published_schema_is_the_one_the_importer_uses() -> None:
    published = json.loads((ROOT / "docs" / "progress.schema.json").read_text(encoding="utf-8"))
    assert published == SCHEMA


def test_checker_refuses_to_ignore_a_keyword_it_does_not_implement() -> None:
    with pytest.raises(ValueError, match="not supported"):
        compile_schema({"type": "string", "format": "date-time"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**45) | st.floats(allow_nan=False,
                                                                   allow_infinity=False)
    | st.text(max_size=40) | st.sampled_from(["ab" * 16, "study", "mini"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=5)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(Review._fields + ("extra",)), value=json_values,
       drop=st.booleans())
def test_fast_review_predicate_agrees_with_the_checker(field, value, drop) -> None:
    from cmqprep.domain.progress_schema import fast_predicate

    review = {"id": "ab" * 16, "pack": "mini", "item": "q1", "at_ms": 5, "rating": 3,
              "duration_ms": 10, "source": "study", "state_before": 0, "chosen": None,
              "correct": None}
    if drop and field in review:
        del review[field]
    else:
        review[field] = value
    schema = SCHEMA["$defs"]["review"]
    assert fast_predicate(schema, SCHEMA)(review) == (compile_schema(schema, SCHEMA)(review)
                                                      is None)


@given(r=st.builds(Review, st.text(max_size=40), st.text(max_size=20), st.text(max_size=20),
                   st.integers(0, 2**45), st.integers(1, 4), st.integers(0, 10**9),
                   st.sampled_from(["study", "quiz", "exam"]), st.integers(0, 3),
                   st.none() | st.integers(0, 25), st.none() | st.booleans()))
def test_review_line_is_exactly_what_json_dumps_writes(r) -> None:
    from cmqprep.domain.progress import review_line

    assert review_line(r) == json.dumps(r._asdict(), ensure_ascii=False)
    assert Review(**json.loads(review_line(r))) == r


def test_streak_counts_consecutive_study_days_ending_today_or_yesterday() -> None:
    from datetime import date, timezone

    from cmqprep.domain.progress import streak, study_day

    d = date(2026, 3, 10)

    def days(*offsets: int) -> list[date]:
        return [date.fromordinal(d.toordinal() - o) for o in offsets]

    assert streak(days(0, 0, 1, 2, 4), d) == 3
    assert streak(days(1, 2), d) == 2  # nothing yet today: the streak is still alive
    assert streak(days(2, 3), d) == 0
    assert streak([], d) == 0
    # 03:00 UTC belongs to the previous study day when days start at 04:00
    assert study_day(to_ms(START.replace(hour=3)), timezone.utc, 4) == date(2026, 3, 1)
    assert study_day(to_ms(START.replace(hour=5)), timezone.utc, 4) == date(2026, 3, 2)

"""The statistics cache gives the report computed from the whole log, whatever happens to the log.

Hypothesis drives sequences of appended reviews, progress imports of old reviews, pack purges,
settings changes and doctor repairs, opening the statistics at random points (so the cache is
built once and then caught up incrementally), and compares every history and calibration field
with the reference computation (stats_report(fresh=True)).
"""

from __future__ import annotations

import random
import tempfile
import threading
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from cmqprep.config import Settings
from cmqprep.db.engine import default_url, read_session, write_session
from cmqprep.db.models import ReviewRow, StatsMetaRow
from cmqprep.domain.progress import Review, encode, summary_document
from cmqprep.domain.scheduling import to_ms
from cmqprep.packs.native import load_pack
from cmqprep.services import stats_cache
from cmqprep.services.context import open_context
from cmqprep.services.doctor import repair
from cmqprep.services.packs import install_pack
from cmqprep.services.progress import import_progress
from cmqprep.services.stats_report import stats_report
from tests.conftest import SMALL_MANIFEST, START, FakeClock, question, term, write_pack

DAY = 86_400_000
ITEMS = [("mini", "q1"), ("mini", "q2"), ("mini", "q3"), ("mini", "t1"), ("side", "s1"),
         ("side", "s2"), ("gone", "x1")]


def assert_same(cached, fresh) -> None:
    """Every history and calibration field of two reports agrees (sums in another order may
    differ in the last bits of a float, nothing more)."""
    assert cached.days == fresh.days
    assert cached.streak_days == fresh.streak_days
    assert (cached.studied_ms_total, cached.studied_ms_week) == (fresh.studied_ms_total,
                                                                 fresh.studied_ms_week)
    assert cached.calibration_reviews == fresh.calibration_reviews
    assert [(b.label, b.n) for b in cached.calibration] == [(b.label, b.n)
                                                             for b in fresh.calibration]
    for a, b in zip(cached.calibration, fresh.calibration):
        assert a.predicted == pytest.approx(b.predicted, rel=1e-9, abs=1e-12)
        assert a.actual == pytest.approx(b.actual, rel=1e-9, abs=1e-12)
    for a, b in ((cached.log_loss, fresh.log_loss),
                 (cached.baseline_log_loss, fresh.baseline_log_loss)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert cached.forecast == fresh.forecast


class World:
    """A database with the mini pack as the bank and a second pack 'side' that can be purged."""

    def __init__(self, root: Path):
        self.root = root
        self.clock = FakeClock()
        bank = write_pack(root / "mini", "\n".join(
            [question("q1"), question("q2", key="B"), question("q3", "II.A", key="C"),
             term("t1"), term("t2", "I.A")]))
        self.side = write_pack(root / "side", "\n".join([question("s1"), question("s2")]),
                               SMALL_MANIFEST.replace('id = "mini"', 'id = "side"'))
        data = root / "data"
        self.ctx = open_context(data, default_url(data), "default", self.clock,
                                random.Random(7), bank_dir=bank)
        self.ctx.settings = Settings(timezone="UTC")
        self.install_side()
        self.files = 0

    def install_side(self) -> None:
        install_pack(self.ctx.engine, load_pack(self.side), to_ms(self.clock()))

    def append(self, reviews: list[tuple[int, int, int, int]]) -> None:
        """Reviews as a study run writes them: now, a few seconds apart."""
        now = to_ms(self.clock())
        with write_session(self.ctx.engine) as s:
            s.execute(insert(ReviewRow), [
                {"id": uuid.uuid4().hex, "profile_id": self.ctx.profile_id,
                 "pack_key": ITEMS[i][0], "item_key": ITEMS[i][1], "reviewed_ms": now + k * 7000,
                 "rating": rating, "duration_ms": secs * 1000, "source": "study",
                 "state_before": 0, "chosen": None, "correct": None}
                for k, (i, _, rating, secs) in enumerate(reviews)])
        self.clock.advance(minutes=len(reviews))

    def import_old(self, reviews: list[tuple[int, int, int, int]]) -> None:
        """Reviews made on another machine, some of them before ones already here."""
        now = to_ms(self.clock())
        rows = [Review(uuid.uuid4().hex, ITEMS[i][0], ITEMS[i][1], now - minutes * 60_000,
                       rating, secs * 1000, "study", 0, None, None)
                for i, minutes, rating, secs in reviews]
        doc = summary_document(app_version="0.1.0", exported_ms=now, kind="full",
                               member_id="ab" * 16, name="other", packs=[], areas=[],
                               activity={"reviews": len(rows), "first_review_ms": None,
                                         "last_review_ms": None, "streak_days": 0},
                               attempts=[])
        self.files += 1
        path = self.root / f"import-{self.files}.json"
        path.write_text("".join(encode(doc, rows)), encoding="utf-8")
        import_progress(self.ctx.engine, self.ctx.profile_id, self.ctx.settings, path,
                        self.clock())

    def remove_pack(self, purge: bool) -> None:
        try:  # pack removal is moving to its own module
            from cmqprep.services.pack_admin import remove_pack
        except ImportError:
            from cmqprep.services.packs import remove_pack  # type: ignore[no-redef]
        remove_pack(self.ctx.engine, "side", purge=purge)

    def retire(self) -> None:
        """Remove the side pack without purging: its items retire, its reviews stay."""
        try:
            self.remove_pack(False)
        except Exception as exc:  # removed already: nothing to retire
            assert type(exc).__name__ == "PackNotInstalled"

    def purge(self) -> None:
        self.remove_pack(True)
        self.install_side()

    def check(self) -> None:
        c = self.ctx
        cached = stats_report(c.engine, c.profile_id, "default", c.settings, self.clock())
        fresh = stats_report(c.engine, c.profile_id, "default", c.settings, self.clock(),
                             fresh=True)
        assert_same(cached, fresh)


review = st.tuples(st.integers(0, len(ITEMS) - 1), st.integers(0, 200 * 24 * 60),
                   st.integers(1, 4), st.integers(0, 90))
SETTINGS = st.fixed_dictionaries({
    "desired_retention": st.sampled_from([0.85, 0.9, 0.95]),
    "timezone": st.sampled_from(["UTC", "America/New_York", "Asia/Kathmandu"]),
    "day_start_hour": st.sampled_from([0, 4, 23]),
    "exam_date": st.sampled_from(["", "2026-09-01"]),
})
step = st.one_of(
    st.tuples(st.just("append"), st.lists(review, min_size=1, max_size=12)),
    st.tuples(st.just("import"), st.lists(review, min_size=1, max_size=12)),
    st.tuples(st.just("days"), st.integers(0, 40)),
    st.tuples(st.just("purge"), st.none()),
    st.tuples(st.just("retire"), st.none()),
    st.tuples(st.just("install"), st.none()),
    st.tuples(st.just("settings"), SETTINGS),
    st.tuples(st.just("repair"), st.none()),
    st.tuples(st.just("check"), st.none()),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(step, min_size=1, max_size=10))
def test_cached_report_equals_the_whole_log_computation(steps) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp))
        try:
            for kind, arg in steps:
                if kind == "append":
                    w.append(arg)
                elif kind == "import":
                    w.import_old(arg)
                elif kind == "days":
                    w.clock.advance(days=arg, hours=arg % 7)
                elif kind == "purge":
                    w.purge()
                elif kind == "retire":
                    w.retire()
                elif kind == "install":
                    w.install_side()
                elif kind == "settings":
                    w.ctx.settings = replace(w.ctx.settings, **arg)
                elif kind == "repair":
                    repair(w.ctx.engine)
                else:
                    w.check()
            w.check()
        finally:
            w.ctx.engine.dispose()


@pytest.fixture
def world(tmp_path: Path):
    w = World(tmp_path)
    yield w
    w.ctx.engine.dispose()


def history(n: int, rng: random.Random) -> list[tuple[int, int, int, int]]:
    return [(rng.randrange(len(ITEMS) - 1), rng.randrange(90 * 24 * 60), rng.choice((1, 3, 3, 4)),
             rng.randrange(5, 60)) for _ in range(n)]


def meta(w: World) -> tuple:
    with read_session(w.ctx.engine) as s:
        row = s.get(StatsMetaRow, w.ctx.profile_id)
        return (row.config, row.watermark, row.gen)


def test_the_comparison_fails_when_the_cache_misses_a_deletion(world) -> None:
    """Without the trigger, a purge is invisible to the cache: the report then differs from the
    reference, which shows the comparison above can fail."""
    world.import_old(history(40, random.Random(1)))
    world.check()
    with write_session(world.ctx.engine) as s:
        s.execute(text("DROP TRIGGER stats_reviews_deleted"))
    world.purge()
    c = world.ctx
    cached = stats_report(c.engine, c.profile_id, "default", c.settings, world.clock())
    fresh = stats_report(c.engine, c.profile_id, "default", c.settings, world.clock(),
                         fresh=True)
    with pytest.raises(AssertionError):
        assert_same(cached, fresh)


def test_rowids_reused_after_a_deletion_are_not_missed(world) -> None:
    """SQLite gives a new row max(rowid) + 1: after the newest rows are purged, new reviews
    get rowids the cache had already passed. The trigger lowers the watermark."""
    world.append([(0, 0, 3, 10)] * 3)
    world.append([(4, 0, 3, 10), (5, 0, 1, 10)])  # side pack: the newest rowids
    world.check()
    _, mark, _ = meta(world)
    world.purge()
    world.clock.advance(days=2)
    world.append([(1, 0, 3, 10), (2, 0, 4, 10)])
    with read_session(world.ctx.engine) as s:
        assert s.execute(text("SELECT max(rowid) FROM reviews")).scalar_one() <= mark
    world.check()


def test_settings_that_change_predictions_rebuild_and_the_exam_date_does_not(world) -> None:
    world.import_old(history(60, random.Random(2)))
    world.check()
    before = meta(world)
    world.ctx.settings = replace(world.ctx.settings, exam_date="2026-04-01")
    world.check()
    assert meta(world) == before  # the exam cap moves due dates only: nothing to redo
    world.ctx.settings = replace(world.ctx.settings, desired_retention=0.8)
    world.check()
    assert meta(world)[0] != before[0]


def test_nothing_new_writes_nothing_and_a_new_review_moves_the_watermark(world) -> None:
    world.append([(0, 0, 3, 10)])
    world.check()
    first = meta(world)
    world.check()
    assert meta(world) == first
    world.clock.advance(days=1)
    world.append([(0, 0, 3, 10)])
    world.check()
    assert meta(world)[1] > first[1]


def test_an_update_computed_while_reviews_were_deleted_is_not_saved(world) -> None:
    """Two processes: one computes from a snapshot, the other purges before it saves."""
    world.import_old(history(30, random.Random(3)))
    world.check()
    world.clock.advance(days=1)
    world.append([(4, 0, 3, 10), (0, 0, 3, 10)])
    cfg = stats_cache.prediction_config(world.ctx.settings)
    plan = stats_cache._snapshot(world.ctx.engine, world.ctx.profile_id, cfg, None)
    assert plan is not None and plan.items
    world.purge()
    with write_session(world.ctx.engine) as s:
        assert not stats_cache._save(s, world.ctx.profile_id, plan)
    world.check()


def test_two_threads_opening_the_statistics_at_once(world) -> None:
    world.import_old(history(80, random.Random(4)))
    c = world.ctx
    errors: list[BaseException] = []

    def open_stats() -> None:
        try:
            stats_cache.refresh(c.engine, c.profile_id, c.settings)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_stats) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    world.check()


def test_first_build_reports_progress_and_later_openings_do_not_replay(world, monkeypatch) -> None:
    world.import_old(history(50, random.Random(5)))
    c = world.ctx
    calls: list[tuple[int, int]] = []
    stats_report(c.engine, c.profile_id, "default", c.settings, world.clock(),
                 progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0
    replayed: list[int] = []
    real_fold = stats_cache.fold

    def counting_fold(acc, rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        rows = list(rows)
        replayed.append(len(rows))
        return real_fold(acc, rows, *args, **kwargs)

    monkeypatch.setattr(stats_cache, "fold", counting_fold)
    world.clock.advance(days=3)
    world.append([(0, 0, 3, 10)])
    world.check()
    assert replayed[0] == 1  # the new review only, continuing from the cached state


def test_bucket_of_truncates_like_sqlite() -> None:
    assert stats_cache.bucket_of(1_800_000 + 5) == 1_800_000
    assert stats_cache.bucket_of(-5) == 0  # SQLite: -5 % 900000 = -5
    assert stats_cache.bucket_of(-900_001) == -900_000
    assert stats_cache.bucket_of(to_ms(START + timedelta(minutes=14))) == to_ms(START)


@pytest.mark.parametrize("zone, hour", [("America/New_York", 4), ("Asia/Kathmandu", 0),
                                        ("Australia/Lord_Howe", 23), ("UTC", 0)])
def test_long_streaks_across_dst_changes(world, zone: str, hour: int) -> None:
    """Streaks longer than the history window read the older buckets day by day; days on which
    the UTC offset changes are mapped bucket by bucket."""
    world.ctx.settings = replace(world.ctx.settings, timezone=zone, day_start_hour=hour)
    world.clock.advance(days=200)  # 2026-09-18: both DST changes of 2026 lie behind
    # two reviews twelve hours apart every day for 200 days (every study day, 23 or 25 hours
    # long included, holds one), except a gap of a day and a half 150 days back
    daily = [(d % 4, d * 24 * 60 + half * 720 + (d * 7) % 60, 3, 20) for d in range(1, 201)
             for half in (0, 1) if not (d == 150 or (d, half) == (151, 0))]
    world.import_old(daily)
    world.check()
    c = world.ctx
    rep = stats_report(c.engine, c.profile_id, "default", c.settings, world.clock())
    assert 84 < rep.streak_days < 160
    world.import_old([(0, 150 * 24 * 60 + m, 3, 20) for m in (0, 720, 1440)])  # fill the gap
    world.check()
    assert stats_report(c.engine, c.profile_id, "default", c.settings,
                        world.clock()).streak_days > rep.streak_days


def test_study_days_agree_with_study_date() -> None:
    from zoneinfo import ZoneInfo

    from cmqprep.domain.readiness import StudyDays, study_date
    from cmqprep.domain.scheduling import from_ms

    rng = random.Random(3)
    for zone in ("UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
                 "Europe/London", "Pacific/Chatham"):
        for hour in (0, 2, 4, 23):
            days = StudyDays(ZoneInfo(zone), hour)
            for _ in range(3000):
                ms = rng.randrange(1_600_000_000_000, 1_900_000_000_000)
                assert days.date_of(ms) == study_date(from_ms(ms), ZoneInfo(zone), hour)


def test_reviews_at_the_same_instant_replay_in_id_order(world) -> None:
    """The log orders an item's reviews by (time, id); a first build reads the table in
    storage order and must sort ties the same way."""
    for _ in range(4):  # random ids: both orders of the tied pair come up
        world.import_old([(0, 3000, 3, 5), (0, 3000, 1, 5), (0, 1000, 3, 5), (1, 500, 3, 5)])
        with write_session(world.ctx.engine) as s:  # force a first build each time
            s.execute(text("UPDATE stats_meta SET config = NULL"))
        world.check()
        world.clock.advance(days=2)
        world.append([(0, 0, 3, 10)])
        world.check()


def test_a_regrade_replays_its_item_and_does_not_rebuild_the_cache(world) -> None:
    """Study's regrade (Hard or Easy after a right answer) updates a review's rating in place."""
    world.append([(0, 0, 3, 10), (1, 0, 3, 10)])
    world.clock.advance(days=3)
    world.append([(0, 0, 3, 10)])
    world.check()
    config, _, gen = meta(world)
    with write_session(world.ctx.engine) as s:
        s.execute(text("UPDATE reviews SET rating = 1 WHERE rowid = (SELECT max(rowid) FROM reviews)"))
    world.check()  # the cached report still equals the whole-log computation
    after = meta(world)
    assert after[0] == config and after[2] > gen  # the item was replayed, nothing rebuilt
    with write_session(world.ctx.engine) as s:  # an update that moves a row still rebuilds
        s.execute(text("UPDATE reviews SET reviewed_ms = reviewed_ms - 60000 "
                       "WHERE rowid = (SELECT max(rowid) FROM reviews)"))
    world.check()

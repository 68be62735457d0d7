"""The statistics report on a seeded history and on a real one, and `cmqprep stats`."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from cmqprep.cli import main
from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import ItemRow, ReviewRow
from cmqprep.domain import readiness as rd
from cmqprep.domain.scheduling import Grade, replay, retrievability, to_ms
from cmqprep.services.readiness import area_report, overall
from cmqprep.services.schedule_store import rebuild
from cmqprep.services.settings_cache import scheduler_config
from cmqprep.services.stats_report import FORECAST_DAYS, HISTORY_DAYS, stats_report
from tests.conftest import with_settings

REAL_LOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsrs-real-review-log.csv"

# (days before now, item key, rating, source, correct, duration s); now is 2026-03-02 15:00 UTC
HISTORY = [
    (7, "q1", 3, "study", True, 30),   # the gap on days -6 to -4 breaks the streak
    (3, "q1", 3, "study", True, 20),
    (3, "q2", 1, "study", False, 40),
    (3, "q3", 3, "study", True, 10),
    (2, "q2", 3, "study", True, 15),
    (1, "t1", 3, "study", None, 5),
    (0, "q3", 3, "quiz", True, 25),
    (0, "q1", 1, "quiz", False, 35),
]


def seed(ctx, history=HISTORY, pack_key: str = "mini") -> None:
    """Append reviews to the log and rebuild the schedule from it (as a merge would)."""
    now = ctx.clock()
    with write_session(ctx.engine) as s:
        for days, key, rating, source, correct, secs in history:
            at = to_ms(now - timedelta(days=days, hours=1))
            s.add(ReviewRow(id=uuid.uuid4().hex, profile_id=ctx.profile_id, pack_key=pack_key,
                            item_key=key, reviewed_ms=at, rating=rating, duration_ms=secs * 1000,
                            source=source, state_before=0, chosen=None, correct=correct))
        s.flush()
        rebuild(s, s.scalars(select(ItemRow)).all(),
                {ctx.profile_id: scheduler_config(ctx.settings)}, ctx.profile_id)


def state_of_key(ctx, key: str):
    now = ctx.clock()
    reviews = [(to_ms(now - timedelta(days=d, hours=1)), Grade(r))
               for d, k, r, *_ in HISTORY if k == key]
    return replay(reviews, scheduler_config(ctx.settings))


def test_area_report_by_hand(ctx) -> None:
    seed(ctx)
    now_ms = to_ms(ctx.clock())
    reports = {a.code: a for a in area_report(ctx.engine, ctx.profile_id, ctx.settings,
                                              ctx.clock())}
    r = {k: retrievability(state_of_key(ctx, k), now_ms) for k in ("q1", "q2", "q3", "t1")}
    one, two = reports["I"], reports["II"]
    assert (one.items, one.seen, one.mastered, one.weight) == (3, 2, 0, pytest.approx(2 / 3))
    assert (two.items, two.seen, two.weight) == (2, 2, pytest.approx(1 / 3))
    assert one.recall_now == pytest.approx((r["q1"] + r["q2"]) / 2)
    assert two.recall_now == pytest.approx((r["q3"] + r["t1"]) / 2)
    assert (one.quiz_accuracy, one.quiz_answers) == (0.0, 1)
    assert (two.quiz_accuracy, two.quiz_answers) == (1.0, 1)
    # questions only (term cards stand aside); 1 quiz answer blended at weight 30
    model_one = (rd.p_correct(r["q1"], 0.25) + rd.p_correct(r["q2"], 0.25)) / 2
    assert one.readiness == pytest.approx(30 * model_one / 31)
    assert two.readiness == pytest.approx((30 * rd.p_correct(r["q3"], 0.25) + 1) / 31)
    assert one.readiness_low < one.readiness < one.readiness_high
    o = overall(list(reports.values()))
    assert o.readiness == pytest.approx(2 / 3 * one.readiness + 1 / 3 * two.readiness)
    assert o.weakest[0] == "I"  # twice the weight and no quiz answer right
    assert one.to_json()["points_lost"] == pytest.approx(2 / 3 * (1 - one.readiness), abs=1e-4)


def test_report_history_streak_time_and_forecast(ctx) -> None:
    seed(ctx)
    rep = stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock())
    assert len(rep.days) == HISTORY_DAYS and rep.days[-1].day == date(2026, 3, 2)
    per_day = [d.reviews for d in rep.days[-8:]]
    assert per_day == [1, 0, 0, 0, 3, 1, 1, 2]
    assert rep.streak_days == 4
    assert rep.studied_ms_total == 180_000
    assert rep.studied_ms_week == 180_000 - 30_000  # day -7 is outside the last seven
    assert len(rep.forecast) == FORECAST_DAYS
    dues = []
    for key in ("q1", "q2", "q3", "t1"):
        due = state_of_key(ctx, key).due_ms
        dues.append(max(0, (datetime.fromtimestamp(due / 1000, timezone.utc)
                            - timedelta(hours=4)).date().toordinal() - date(2026, 3, 2).toordinal()))
    expected = [0] * FORECAST_DAYS
    for i in dues:
        if i < FORECAST_DAYS:
            expected[i] += 1
    assert rep.forecast == expected
    # calibration: q1 -7 -> -3 (recalled), q1 -3 -> 0 (forgotten), q2 -3 -> -2 (recalled),
    # q3 -3 -> 0 (recalled); every pair at least a day apart
    assert rep.calibration_reviews == 4
    assert sum(b.n for b in rep.calibration) == 4
    assert rep.log_loss is not None and rep.baseline_log_loss == pytest.approx(
        rd.log_loss([(0.75, True)] * 3 + [(0.75, False)]))
    assert rep.plan is None


def test_exam_date_gives_a_plan(ctx) -> None:
    seed(ctx)
    with_settings(ctx, exam_date="2026-03-23")
    rep = stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock())
    assert rep.plan is not None
    # 21 days left, 7 kept for review: 1 unseen item (t2) over 14 days
    assert (rep.plan.days_left, rep.plan.unseen, rep.plan.learning_days,
            rep.plan.new_per_day) == (21, 1, 14, 1)
    data = rep.to_json()
    assert data["plan"]["days_left"] == 21


def test_report_json_merges_counts_and_readiness_per_area(ctx) -> None:
    seed(ctx)
    data = stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings,
                        ctx.clock()).to_json()
    json.dumps(data)  # serialisable as is
    area = {a["code"]: a for a in data["areas"]}["I"]
    for key in ("items", "seen", "due", "new", "mastered", "recall_now", "quiz_accuracy",
                "readiness", "readiness_low", "readiness_high", "weight", "points_lost"):
        assert key in area
    assert set(data["readiness"]) == {"readiness", "low", "high", "weakest"}
    assert len(data["history"]) == HISTORY_DAYS and len(data["forecast"]) == FORECAST_DAYS


def load_real_log() -> list[tuple[str, int, int, int]]:
    if not REAL_LOG.is_file():
        pytest.skip(f"{REAL_LOG} is not available")
    with REAL_LOG.open(newline="") as f:
        return [(row["card_id"], to_ms(datetime.fromisoformat(row["review_time"])),
                 int(row["review_rating"]), int(row["review_duration"]))
                for row in csv.DictReader(f)]


def test_calibration_on_a_real_history_beats_a_constant(ctx) -> None:
    rows = load_real_log()
    with write_session(ctx.engine) as s:
        s.execute(insert(ReviewRow), [
            {"id": uuid.uuid4().hex, "profile_id": ctx.profile_id, "pack_key": "real",
             "item_key": f"c{card}", "reviewed_ms": at, "rating": rating, "duration_ms": dur,
             "source": "study", "state_before": 0, "chosen": None, "correct": None}
            for card, at, rating, dur in rows])
    calls: list[tuple[int, int]] = []
    now = datetime(2024, 10, 7, 12, tzinfo=timezone.utc)
    rep = stats_report(ctx.engine, ctx.profile_id, "default", ctx.settings, now,
                       progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (1205, 1205) and len(calls) > 5
    # 12,580 reviews of 1,205 cards; 5,329 come a day or more after the previous one
    assert rep.calibration_reviews == 5329
    assert rep.log_loss == pytest.approx(0.4634, abs=5e-4)
    assert rep.baseline_log_loss == pytest.approx(0.5112, abs=5e-4)
    assert rep.log_loss < rep.baseline_log_loss - 0.03
    bands = {b.label: b for b in rep.calibration}
    assert bands["1-3 days"].n == 2470
    assert abs(bands["1-3 weeks"].predicted - bands["1-3 weeks"].actual) < 0.05
    assert rep.studied_ms_total == sum(r[3] for r in rows)
    with read_session(ctx.engine) as s:
        assert s.query(ReviewRow).count() == len(rows) == 12580


def test_cli_stats_table_and_json(tmp_path: Path, capsys) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert main([*d, "settings", "set", "exam_date", "2099-01-31"]) == 0
    capsys.readouterr()
    assert main([*d, "stats"]) == 0
    out = capsys.readouterr().out
    assert "not an ASQ scaled score" in out and "Exam in " in out
    assert [line.split()[0] for line in out.splitlines()[4:11]] == [
        "I", "II", "III", "IV", "V", "VI", "VII"]
    assert main([*d, "stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["readiness"]["readiness"] == pytest.approx(rd.UNSEEN_PRIOR)
    assert all(a["mastered"] == 0 and a["readiness"] == pytest.approx(rd.UNSEEN_PRIOR)
               and a["recall_now"] is None for a in data["areas"])
    assert data["plan"]["unseen"] == sum(a["items"] for a in data["areas"])


def test_cli_stats_fresh_bypasses_the_cache_and_agrees_with_it(tmp_path: Path, capsys) -> None:
    import sqlite3

    d = ["--data-dir", str(tmp_path)]
    assert main([*d, "stats", "--json", "--fresh"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    db = sqlite3.connect(tmp_path / "cmqprep.sqlite")
    assert db.execute("SELECT count(*) FROM stats_meta").fetchone() == (0,)
    assert main([*d, "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == fresh
    assert db.execute("SELECT count(*) FROM stats_meta").fetchone() == (1,)
    db.close()

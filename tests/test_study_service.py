"""The study loop in the service layer: queue rules, durable answers, undo, suspend, limits."""

from __future__ import annotations

from sqlalchemy import func, select

from cmqprep.db.engine import read_session
from cmqprep.db.models import ReviewRow, ScheduleRow
from cmqprep.domain.scheduling import LEARNING, REVIEW, Grade
from cmqprep.services.stats import home_counts
from cmqprep.services.study import StudySession
from tests.conftest import with_settings


def session(ctx, area=None) -> StudySession:
    return StudySession(ctx.engine, ctx.profile_id, ctx.settings, ctx.clock, ctx.rng, area)


def log(ctx) -> list[tuple[str, int, str, int | None]]:
    with read_session(ctx.engine) as s:
        return [(r.item_key, r.rating, r.source, r.chosen) for r in
                s.scalars(select(ReviewRow).order_by(ReviewRow.reviewed_ms, ReviewRow.id))]


def first_question(sess: StudySession):
    """The next question, rating any term cards before it Good."""
    card = sess.next_card()
    while card.kind != "question":
        sess.rate(card, Grade.GOOD, 1)
        card = sess.next_card()
    return card


def answer(sess: StudySession, right: bool = True):
    card = sess.next_card()
    if card.kind == "question":
        pos = card.answer if right else (card.answer + 1) % 4
        return card, sess.answer_choice(card, pos, 1500)
    return card, sess.rate(card, Grade.GOOD if right else Grade.AGAIN, 1500)


def test_answer_is_in_the_log_before_the_next_card_is_asked_for(ctx) -> None:
    sess = session(ctx)
    card, rec = answer(sess, right=False)
    # a brand-new engine connection sees the review: it was committed
    assert log(ctx) == [(card.item_key, 1, "study",
                         card.order[(card.answer + 1) % 4] if card.kind == "question" else None)]
    assert rec.after.state == LEARNING


def test_options_are_shuffled_and_the_chosen_original_index_is_stored(ctx) -> None:
    import json

    from cmqprep.db.models import ItemRow

    sess = session(ctx)
    card = first_question(sess)
    with read_session(ctx.engine) as s:
        item = s.get(ItemRow, card.item_id)
        pack_options, pack_key = json.loads(item.options), item.answer
    orders = set()
    for _ in range(12):
        shown = session(ctx).next_card()  # same item: nothing was answered meanwhile
        assert shown.item_id == card.item_id and sorted(shown.order) == [0, 1, 2, 3]
        assert shown.options == tuple(pack_options[i] for i in shown.order)
        assert shown.options[shown.answer] == pack_options[pack_key]
        orders.add(shown.order)
    assert len(orders) > 1
    wrong = (card.answer + 1) % 4
    sess.answer_choice(card, wrong, 10)
    assert log(ctx)[-1][3] == card.order[wrong]  # stored as the pack's option index


def test_failed_card_comes_back_in_the_same_run(ctx) -> None:
    with_settings(ctx, new_per_day=1)
    sess = session(ctx)
    card, _ = answer(sess, right=False)
    ctx.clock.advance(minutes=2)
    # nothing else is available (one new card a day), so the learning card is shown again early
    again = sess.next_card()
    assert again is not None and again.item_id == card.item_id
    assert again.state == LEARNING


def test_reviews_first_then_new_and_the_daily_new_limit(ctx) -> None:
    with_settings(ctx, new_per_day=2)
    sess = session(ctx)
    seen = []
    for _ in range(2):
        card, _ = answer(sess)
        seen.append(card.item_id)
        ctx.clock.advance(minutes=11)
        card2 = sess.next_card()  # the learning step is due: it comes before anything new
        assert card2.item_id == seen[-1]
        sess.answer_choice(card2, card2.answer, 1) if card2.kind == "question" else sess.rate(card2, Grade.GOOD, 1)
    # two new cards introduced today: no third one
    assert sess.next_card() is None
    counts = home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock())
    assert counts.new_available == 0 and counts.new_today == 2
    # next study day: the graduated cards are due as reviews, before new cards
    ctx.clock.advance(days=3)
    card = session(ctx).next_card()
    assert card.item_id in seen and card.state == REVIEW


def test_undo_removes_the_review_and_restores_the_schedule(ctx) -> None:
    sess = session(ctx)
    card1, _ = answer(sess)
    card2, _ = answer(sess)
    back = sess.undo()
    assert back.item_id == card2.item_id
    assert [k for k, *_ in log(ctx)] == [card1.item_key]
    with read_session(ctx.engine) as s:
        assert s.get(ScheduleRow, (ctx.profile_id, card2.item_id)) is None  # new again
        assert s.get(ScheduleRow, (ctx.profile_id, card1.item_id)).reps == 1
    assert sess.summary.studied == 1
    assert sess.undo().item_id == card1.item_id and sess.undo() is None
    assert log(ctx) == []


def test_regrade_changes_the_grade_of_the_answer_just_given(ctx) -> None:
    sess = session(ctx)
    card = first_question(sess)
    rec = sess.answer_choice(card, card.answer, 1)
    easy = sess.regrade(Grade.EASY)
    assert easy.after.due_ms > rec.after.due_ms
    assert log(ctx)[-1][1] == int(Grade.EASY)
    with read_session(ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(ReviewRow)) == len(sess.history)


def test_a_wrong_answer_cannot_be_regraded_as_right(ctx) -> None:
    import pytest

    sess = session(ctx)
    card, _ = answer(sess, right=False)
    with pytest.raises(ValueError):
        sess.regrade(Grade.GOOD)
    assert log(ctx)[-1][1] == int(Grade.AGAIN)


def test_suspended_cards_are_not_studied(ctx) -> None:
    sess = session(ctx)
    card = sess.next_card()
    sess.suspend(card)
    offered = []
    while (c := sess.next_card()) is not None:
        offered.append(c.item_id)
        sess.answer_choice(c, c.answer, 1) if c.kind == "question" else sess.rate(c, Grade.EASY, 1)
        ctx.clock.advance(minutes=30)
    assert card.item_id not in offered and len(set(offered)) == 4


def test_area_filter_only_offers_that_area(ctx) -> None:
    sess = session(ctx, area="II")
    areas = set()
    while (c := sess.next_card()) is not None:
        areas.add(c.area)
        sess.answer_choice(c, c.answer, 1) if c.kind == "question" else sess.rate(c, Grade.EASY, 1)
        ctx.clock.advance(minutes=30)
    assert areas == {"II"}


def test_home_counts_per_area(ctx) -> None:
    counts = home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock())
    assert [(a.code, a.items, a.seen, a.new) for a in counts.areas] == [("I", 3, 0, 3), ("II", 2, 0, 2)]
    sess = session(ctx)
    card, _ = answer(sess)
    counts = home_counts(ctx.engine, ctx.profile_id, "default", ctx.settings, ctx.clock())
    by = {a.code: a for a in counts.areas}
    assert by[card.area].seen == 1 and by[card.area].due == 1  # learning step due later today
    assert counts.reviews_total == 1 and counts.reviews_today == 1
    assert sum(a.new for a in counts.areas) == 4


def test_a_failed_undo_changes_nothing_and_can_be_retried(ctx, monkeypatch) -> None:
    import pytest

    import cmqprep.services.study as study_service
    from cmqprep.db.engine import DatabaseError

    sess = session(ctx)
    card, _ = answer(sess)

    def full_disk(*_a, **_k):
        raise DatabaseError("the disk is full")

    with monkeypatch.context() as m:
        m.setattr(study_service, "write_session", full_disk)
        with pytest.raises(DatabaseError):
            sess.undo()
    # the answer is still in the run and in the log, so undo works once the disk has room
    assert len(sess.history) == 1 and sess.summary.studied == 1
    assert [k for k, *_ in log(ctx)] == [card.item_key]
    assert sess.undo().item_id == card.item_id and log(ctx) == []

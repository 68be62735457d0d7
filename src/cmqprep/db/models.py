"""SQLAlchemy 2 models. Instants are integer epoch milliseconds in UTC (SQLite keeps no tzinfo)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


NEW_STUDY_WHERE = "source = 'study' AND state_before = 0"
"""Rows of ix_reviews_new_study; queries must repeat this text for SQLite to use the index."""
QUIZ_ANSWER_WHERE = "source IN ('quiz', 'exam') AND correct IS NOT NULL"
"""Rows of ix_reviews_quiz (recent quiz evidence for readiness); repeated by its query."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PackRow(Base):
    __tablename__ = "packs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    license: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    installed_ms: Mapped[int] = mapped_column(Integer)
    exam_name: Mapped[str] = mapped_column(Text, default="")
    exam_scored: Mapped[int] = mapped_column(Integer, default=0)
    exam_unscored: Mapped[int] = mapped_column(Integer, default=0)
    exam_minutes: Mapped[int] = mapped_column(Integer, default=0)


class AreaRow(Base):
    """A BoK area of a pack's blueprint."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("pack_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    scored: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class TopicRow(Base):
    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("area_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)


class ItemRow(Base):
    """A question or term card. `key` is the pack-given id, stable across pack versions."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("pack_id", "key"),
        Index("ix_items_new", "retired", "area", "position"),
        Index("ix_items_order", "retired", "position"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # "question" | "term"
    area: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16), default="")
    prompt: Mapped[str] = mapped_column(Text)  # stem or front
    options: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    answer: Mapped[int] = mapped_column(Integer, default=-1)  # key index for questions
    explanation: Mapped[str] = mapped_column(Text, default="")  # explanation or back
    reference: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="[]")
    checked: Mapped[str] = mapped_column(String(10), default="")
    content_hash: Mapped[str] = mapped_column(String(20))
    answer_hash: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order in the pack (new cards come in it)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Reviews before this instant no longer count for scheduling: the key or options changed,
    # so what was learned may be wrong. The reviews themselves are kept.
    reset_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ProfileRow(Base):
    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_ms: Mapped[int] = mapped_column(Integer)


class ScheduleRow(Base):
    """FSRS state per profile and item; a row exists once the item has been seen or suspended."""

    __tablename__ = "schedule"
    __table_args__ = (
        # item_id and step make the queue queries and the due counts index-only (0003).
        Index("ix_schedule_due", "profile_id", "suspended", "state", "due_ms", "item_id", "step"),
        Index("ix_schedule_area_due", "profile_id", "area", "suspended", "state", "due_ms",
              "item_id", "step"),
    )
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"),
                                            primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    area: Mapped[str] = mapped_column(String(16))
    state: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)
    due_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_review_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewRow(Base):
    """Append-only review log: one row per answer, the source of truth for schedule state.

    Items are named by (pack_key, item_key) so reviews of packs not installed here survive.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_profile_time", "profile_id", "reviewed_ms"),
        Index("ix_reviews_item", "profile_id", "pack_key", "item_key", "reviewed_ms"),
        # 0004: today's first studies of new cards (the new-card limit on the home screen)
        # without reading the ~10k log rows of a heavy day; one entry per item ever started.
        Index("ix_reviews_new_study", "profile_id", "reviewed_ms",
              sqlite_where=text(NEW_STUDY_WHERE), postgresql_where=text(NEW_STUDY_WHERE)),
        Index("ix_reviews_quiz", "profile_id", "reviewed_ms",
              sqlite_where=text(QUIZ_ANSWER_WHERE), postgresql_where=text(QUIZ_ANSWER_WHERE)),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    pack_key: Mapped[str] = mapped_column(String(64))
    item_key: Mapped[str] = mapped_column(String(64))
    reviewed_ms: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(8))  # study | quiz | exam
    state_before: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # option index picked
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class SettingRow(Base):
    """Key/value settings; profile_id 0 holds app-wide ones. Values are JSON text."""

    __tablename__ = "settings"
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AttemptRow(Base):
    """A quiz or mock exam attempt; its questions are stored one row each as they are answered.

    Time: `spent_ms` is the time used up to `resumed_ms` (the start of the current sitting).
    With `clock_runs` the time keeps counting while the learner is away (as in a test centre),
    so the time used is simply now - started_ms.
    """

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_profile_started", "profile_id", "started_ms"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # quiz | exam
    mode: Mapped[str] = mapped_column(String(8))  # study (feedback each answer) | exam (at end)
    title: Mapped[str] = mapped_column(Text, default="")
    areas: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of area codes drawn from
    started_ms: Mapped[int] = mapped_column(Integer)
    limit_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: untimed
    clock_runs: Mapped[bool] = mapped_column(Boolean, default=True)  # counts while away
    spent_ms: Mapped[int] = mapped_column(Integer, default=0)
    resumed_ms: Mapped[int] = mapped_column(Integer)
    current: Mapped[int] = mapped_column(Integer, default=0)  # position shown last
    submitted_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    retake_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    correct: Mapped[int | None] = mapped_column(Integer, nullable=True)  # scored, at submit
    scored: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AttemptQuestionRow(Base):
    """One question of an attempt, in the order shown; the answer is kept as the pack's option
    index, so reshuffling for display never changes what was chosen."""

    __tablename__ = "attempt_questions"
    __table_args__ = (Index("ix_attempt_questions_item", "item_id"),)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"),
                                            primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    area: Mapped[str] = mapped_column(String(16))
    scored: Mapped[bool] = mapped_column(Boolean, default=True)
    option_order: Mapped[str] = mapped_column(Text)  # JSON: display position -> option index
    chosen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # option index
    answered_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    marked: Mapped[bool] = mapped_column(Boolean, default=False)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    review_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # log row written


class GroupMemberRow(Base):
    """A study-group member's latest progress export (summary part only, as JSON)."""

    __tablename__ = "group_members"
    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    exported_ms: Mapped[int] = mapped_column(Integer)
    added_ms: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)  # JSON


# ---- statistics cache (0004): derived from the review log, rebuilt when in doubt -------------

class StatsMetaRow(Base):
    """Per profile: how far the statistics cache has read the review log.

    `watermark` is the highest reviews rowid folded in (SQLite); `config` the scheduler settings
    the predictions were made with (JSON; NULL means rebuild); `gen` counts deletions from the
    log (bumped by a trigger), so a cache computed while rows were deleted is not saved."""

    __tablename__ = "stats_meta"
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[str | None] = mapped_column(Text, nullable=True)
    watermark: Mapped[int] = mapped_column(Integer, default=0)
    gen: Mapped[int] = mapped_column(Integer, default=0)


class StatsItemRow(Base):
    """Per profile and reviewed item (by pack and item key, as the log names it): the FSRS
    state its log so far replays to, where that replay stopped, and its calibration sums."""

    __tablename__ = "stats_items"
    __table_args__ = {"sqlite_with_rowid": False}  # rows kept in key order
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviews: Mapped[int] = mapped_column(Integer)
    last_ms: Mapped[int] = mapped_column(Integer)  # (reviewed_ms, id) of the last review folded
    last_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)
    due_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_review_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reps: Mapped[int] = mapped_column(Integer)
    lapses: Mapped[int] = mapped_column(Integer)
    bands: Mapped[str] = mapped_column(Text)  # JSON {band: [n, predicted, recalled, loss]}


class StatsBandRow(Base):
    """Per profile and interval band: calibration sums over all predicted reviews."""

    __tablename__ = "stats_bands"
    __table_args__ = {"sqlite_with_rowid": False}  # rows kept in key order
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    predicted: Mapped[float] = mapped_column(Float)  # sum of predicted recall
    recalled: Mapped[int] = mapped_column(Integer)
    loss: Mapped[float] = mapped_column(Float)  # sum of log-loss terms


class StatsBucketRow(Base):
    """Per profile and 15-minute UTC bucket: reviews and answer time. Every time zone's day
    boundaries fall on these, so any study-day setting maps buckets to days exactly."""

    __tablename__ = "stats_buckets"
    __table_args__ = {"sqlite_with_rowid": False}  # rows kept in key order
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviews: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)


class StatsStaleRow(Base):
    """Items that lost reviews since the cache read them (filled by a trigger on the log):
    their cached replay is redone from their whole log."""

    __tablename__ = "stats_stale"
    __table_args__ = {"sqlite_with_rowid": False}  # rows kept in key order
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)


# ---- derived counters (migration 0004; kept exact by SQLite triggers, see db/counters.py) ----

class AreaItemCountRow(Base):
    """Live (not retired) items per area code, over all packs."""

    __tablename__ = "area_item_counts"
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    live: Mapped[int] = mapped_column(Integer, default=0)


class AreaScheduleCountRow(Base):
    """Schedule rows per profile and area (retired items' rows included), and how many of them
    are still in state new (suspended or flagged before being studied)."""

    __tablename__ = "area_schedule_counts"
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)

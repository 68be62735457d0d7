"""Item analysis for authors: how a class answered each question of a pack (`pack stats`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from cmqprep.db.engine import read_session
from cmqprep.db.models import ItemRow, PackRow, ReviewRow
from cmqprep.domain.items import LETTERS

MIN_ATTEMPTS = 5
"""Answers an item needs before it is flagged: with fewer, one unlucky learner decides."""

NOBODY_RIGHT = "nobody-right"
DISTRACTOR_BEATS_KEY = "distractor-beats-key"


@dataclass
class ItemStats:
    id: str
    topic: str
    key: int  # index of the key in the pack's option order
    picks: list[int]  # how often each option was chosen, in pack order
    flags: list[str] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return sum(self.picks)

    @property
    def correct(self) -> int:
        return self.picks[self.key]

    @property
    def p_correct(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None

    def to_json(self) -> dict[str, object]:
        n = self.attempts
        return {
            "id": self.id, "topic": self.topic, "key": LETTERS[self.key], "attempts": n,
            "correct": self.correct,
            "p_correct": None if self.p_correct is None else round(self.p_correct, 4),
            "options": [{"letter": LETTERS[i], "picked": k,
                         "share": round(k / n, 4) if n else None, "key": i == self.key}
                        for i, k in enumerate(self.picks)],
            "flags": list(self.flags),
        }


@dataclass
class PackStats:
    pack: str
    version: str
    items: list[ItemStats]
    min_attempts: int = MIN_ATTEMPTS

    def to_json(self) -> dict[str, object]:
        return {"pack": self.pack, "version": self.version, "min_attempts": self.min_attempts,
                "answers": sum(i.attempts for i in self.items),
                "flagged": sum(1 for i in self.items if i.flags),
                "items": [i.to_json() for i in self.items]}


def flags_for(item: ItemStats, min_attempts: int = MIN_ATTEMPTS) -> list[str]:
    if item.attempts < min_attempts:
        return []
    out = []
    if item.correct == 0:
        out.append(NOBODY_RIGHT)
    if any(k > item.correct for i, k in enumerate(item.picks) if i != item.key):
        out.append(DISTRACTOR_BEATS_KEY)
    return out


def sort_key(item: ItemStats) -> tuple:
    """Flagged items first, then the hardest, then the most answered; ids break ties."""
    p = item.p_correct
    return (not item.flags, p if p is not None else 2.0, -item.attempts, item.id)


def pack_stats(engine: Engine, pack_key: str, min_attempts: int = MIN_ATTEMPTS) -> PackStats | None:
    """Per live question of an installed pack: answers, share correct and picks per option.

    Counts every review that recorded a chosen option (study, quiz and exam, all profiles in
    this database). Reviews from before an item's key or options last changed are left out:
    their option indexes refer to the old options.
    """
    with read_session(engine) as s:
        row = s.scalar(select(PackRow).where(PackRow.key == pack_key))
        if row is None:
            return None
        items = s.execute(select(ItemRow.key, ItemRow.topic, ItemRow.answer, ItemRow.options,
                                 ItemRow.reset_ms)
                          .where(ItemRow.pack_id == row.id, ItemRow.kind == "question",
                                 ItemRow.retired.is_(False))).all()
        since = {k: reset for k, _, _, _, reset in items}
        picks: dict[str, Counter[int]] = {k: Counter() for k, *_ in items}
        reviews = s.execute(select(ReviewRow.item_key, ReviewRow.chosen, ReviewRow.reviewed_ms)
                            .where(ReviewRow.pack_key == pack_key, ReviewRow.chosen.is_not(None)))
        for key, chosen, at in reviews:
            if key in picks and (since[key] is None or at >= since[key]):
                picks[key][chosen] += 1
        out = []
        for key, topic, answer, options, _ in items:
            n_options = len(json.loads(options))
            counts = [picks[key][i] for i in range(n_options)]  # out-of-range picks ignored
            stats = ItemStats(key, topic, answer, counts)
            stats.flags = flags_for(stats, min_attempts)
            out.append(stats)
        out.sort(key=sort_key)
        return PackStats(row.key, row.version, out, min_attempts)


def table_lines(stats: PackStats) -> list[str]:
    """The text table of `pack stats`: one row per question, flagged first."""
    letters = LETTERS[: max((len(i.picks) for i in stats.items), default=4)]
    head = f"{'Item':<16} {'Topic':<10} {'N':>5} {'Right':>6}  " + " ".join(
        f"{c:>5}" for c in letters) + "  Flags"
    out = [head]
    for i in stats.items:
        right = f"{i.p_correct:.0%}" if i.p_correct is not None else "-"
        cells = " ".join(f"{('*' if n == i.key else '') + str(k):>5}" for n, k in enumerate(i.picks))
        out.append(f"{i.id:<16} {i.topic[:10]:<10} {i.attempts:>5} {right:>6}  {cells}  "
                   f"{', '.join(i.flags)}".rstrip())
    return out

"""Quiz and mock-exam assembly (blueprint draws), timing and scoring. Pure: no I/O.

Draw rules
- A full mock exam takes each area's scored count from the blueprint exactly; a quiz of N questions
  splits N across the chosen areas in proportion to their blueprint counts (largest remainder),
  moving any shortfall to areas that still have spare items.
- Within an area, items the learner has seen least or missed most come first:
  priority = times answered - 2 x times wrong (lower first), random among equals.
- Items used in the previous mock exam are drawn only when an area has no other items left.
- Unscored (pretest) items come from what is left once the scored ones are drawn.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SECONDS_PER_QUESTION = 258 * 60 / 180  # the real exam: 258 minutes for 180 items, ~1.43 min each


class DrawError(ValueError):
    """The bank cannot supply the requested draw; the message says what is short."""


@dataclass(frozen=True)
class Candidate:
    item_id: int
    area: str
    seen: int = 0  # times answered before (any source)
    wrong: int = 0  # times answered wrong before

    @property
    def priority(self) -> int:
        return self.seen - 2 * self.wrong


def proportional_counts(weights: Mapping[str, int], available: Mapping[str, int],
                        total: int) -> dict[str, int]:
    """Split `total` over areas in proportion to `weights`, never above what is `available`.

    Largest-remainder rounding; a shortfall in one area moves to areas with spare items (again in
    proportion). The result sums to min(total, sum(available)).
    """
    areas = [a for a in weights if available.get(a, 0) > 0]
    counts = {a: 0 for a in weights}
    remaining = min(total, sum(available.get(a, 0) for a in areas))
    while remaining > 0 and areas:
        wsum = sum(max(weights[a], 0) for a in areas)
        shares = {a: (remaining * max(weights[a], 0) / wsum) if wsum else remaining / len(areas)
                  for a in areas}
        alloc = {a: int(shares[a]) for a in areas}
        left = remaining - sum(alloc.values())
        for a in sorted(areas, key=lambda a: (-(shares[a] - alloc[a]), list(weights).index(a))):
            if left <= 0:
                break
            alloc[a] += 1
            left -= 1
        given = 0
        for a in areas:
            room = available[a] - counts[a]
            take = min(alloc[a], room)
            counts[a] += take
            given += take
        remaining -= given
        areas = [a for a in areas if counts[a] < available[a]]
        if given == 0:
            break
    return counts


def blueprint_shortfall(required: Mapping[str, int], available: Mapping[str, int]) -> dict[str, int]:
    """Areas whose bank holds fewer questions than the blueprint needs: area -> missing count."""
    return {a: n - available.get(a, 0) for a, n in required.items() if available.get(a, 0) < n}


def _ordered(cands: Sequence[Candidate], rng: random.Random, avoid: set[int]) -> list[Candidate]:
    keyed = [(c.item_id in avoid, c.priority, rng.random(), c) for c in cands]
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


@dataclass(frozen=True)
class Draw:
    scored: tuple[int, ...]  # item ids, in presentation order mixed with unscored below
    unscored: tuple[int, ...]
    order: tuple[int, ...]  # all item ids in presentation order


def draw(candidates: Iterable[Candidate], counts: Mapping[str, int], rng: random.Random,
         unscored: int = 0, avoid: Iterable[int] = ()) -> Draw:
    """Pick `counts[area]` items per area plus `unscored` spare items, in random order."""
    by_area: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_area.setdefault(c.area, []).append(c)
    avoid_set = set(avoid)
    scored: list[int] = []
    spare: list[Candidate] = []
    for area in sorted(by_area):
        ordered = _ordered(by_area[area], rng, avoid_set)
        n = counts.get(area, 0)
        if n > len(ordered):
            raise DrawError(f"area {area} has {len(ordered)} questions, {n} needed")
        scored += [c.item_id for c in ordered[:n]]
        spare += ordered[n:]
    missing = {a: n for a, n in counts.items() if n and a not in by_area}
    if missing:
        raise DrawError("no questions in area " + ", ".join(sorted(missing)))
    extra: list[int] = []
    if unscored:
        spare_sorted = _ordered(spare, rng, avoid_set)
        extra = [c.item_id for c in spare_sorted[:unscored]]
    order = scored + extra
    rng.shuffle(order)
    return Draw(tuple(scored), tuple(extra), tuple(order))


# ---- timing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    """When an attempt's time runs. All instants are epoch milliseconds UTC."""

    started_ms: int
    limit_ms: int | None  # None: untimed
    clock_runs: bool  # True: time passes while away (test centre); False: paused when away
    spent_ms: int  # time used before the current sitting (only used when the clock pauses)
    resumed_ms: int  # when the current sitting began (or the last save of the time used)

    def used_ms(self, now_ms: int) -> int:
        if self.clock_runs:
            return max(0, now_ms - self.started_ms)
        return max(0, self.spent_ms + max(0, now_ms - self.resumed_ms))

    def remaining_ms(self, now_ms: int) -> int | None:
        if self.limit_ms is None:
            return None
        return max(0, self.limit_ms - self.used_ms(now_ms))

    def expired(self, now_ms: int) -> bool:
        left = self.remaining_ms(now_ms)
        return left is not None and left <= 0

    def checkpoint(self, now_ms: int) -> Timing:
        """Fold the current sitting into spent_ms (for a pausing clock), e.g. when leaving."""
        if self.clock_runs:
            return self
        return Timing(self.started_ms, self.limit_ms, False, self.used_ms(now_ms), now_ms)


def format_clock(ms: int) -> str:
    s = max(0, ms) // 1000
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


# ---- scoring --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerFact:
    area: str
    scored: bool
    chosen: int | None  # option index, None if unanswered
    key: int
    marked: bool = False

    @property
    def correct(self) -> bool:
        return self.chosen is not None and self.chosen == self.key


@dataclass(frozen=True)
class AreaScore:
    code: str
    correct: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total if self.total else 0.0


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    answered: int = 0
    unscored_correct: int = 0
    unscored_total: int = 0
    areas: list[AreaScore] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total if self.total else 0.0

    def passes(self, target_percent: float) -> bool:
        return self.total > 0 and self.percent >= target_percent


def score(answers: Sequence[AnswerFact], area_order: Sequence[str] = ()) -> Score:
    """Overall and per-area score of the scored questions (unscored ones reported apart)."""
    out = Score()
    per: dict[str, list[int]] = {}
    for a in answers:
        if a.chosen is not None:
            out.answered += 1
        if not a.scored:
            out.unscored_total += 1
            out.unscored_correct += int(a.correct)
            continue
        out.total += 1
        out.correct += int(a.correct)
        cell = per.setdefault(a.area, [0, 0])
        cell[0] += int(a.correct)
        cell[1] += 1
    rank = {code: i for i, code in enumerate(area_order)}
    for code in sorted(per, key=lambda c: (rank.get(c, len(rank)), c)):
        out.areas.append(AreaScore(code, per[code][0], per[code][1]))
    return out


def bar(fraction: float, width: int = 20) -> str:
    """A text bar for a share between 0 and 1 (eighth-block resolution)."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width, "·")

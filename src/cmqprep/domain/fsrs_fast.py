"""One FSRS-6 review step on plain floats and ints, bit for bit what fsrs 6.3.2 computes.

The `fsrs` package builds Card, timedelta and datetime objects for every step (about 15 us);
replaying a log of a million reviews (progress import, rebuilds, statistics) spends most of its
time there. This module repeats the package's arithmetic, in the same order of operations (so
the floats agree to the last bit), with fuzzing off, on integer epoch milliseconds. The package
stays the source of the parameters and the reference the tests compare against
(tests/test_fsrs_fast.py).

Instants are epoch ms between 1970 and about 2200: there `datetime.fromtimestamp(ms / 1000)`,
which the package path goes through, is exact to the microsecond, as this module assumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from math import e as _E  # fsrs raises math.e to powers (not math.exp), and so do we

LEARNING, REVIEW, RELEARNING = 1, 2, 3
STABILITY_MIN = 0.001
MIN_DIFFICULTY, MAX_DIFFICULTY = 1.0, 10.0
_US_PER_DAY = 86_400_000_000
_MS_PER_DAY = 86_400_000

Step = tuple[int, "int | None", float, float, int]
"""(state, step, stability, difficulty, due_ms) after a review."""


def _us(td: timedelta) -> int:
    return td // timedelta(microseconds=1)


def _step_intervals(steps_min: Sequence[float]) -> tuple[tuple[int, ...], int]:
    """Each step's length in microseconds, and the Hard interval on step 0, computed with
    timedelta arithmetic exactly as fsrs does (it rounds to whole microseconds)."""
    steps = tuple(timedelta(minutes=m) for m in steps_min)
    if len(steps) >= 2:
        hard0 = (steps[0] + steps[1]) / 2.0
    elif steps:
        hard0 = steps[0] * 1.5
    else:
        hard0 = timedelta(0)
    return tuple(_us(s) for s in steps), _us(hard0)


class FsrsStep:
    """The FSRS-6 step for one set of scheduler settings; constants computed once."""

    def __init__(self, parameters: Sequence[float], desired_retention: float,
                 learning_steps_min: Sequence[float], relearning_steps_min: Sequence[float],
                 maximum_interval_days: int):
        p = tuple(float(x) for x in parameters)
        if len(p) != 21:
            raise ValueError(f"FSRS-6 has 21 parameters, got {len(p)}")
        self.p = p
        self.decay = -p[20]
        self.factor = 0.9 ** (1 / self.decay) - 1
        self.interval_k = (desired_retention ** (1 / self.decay)) - 1
        self.max_interval = maximum_interval_days
        self.learn_us, self.learn_hard0_us = _step_intervals(learning_steps_min)
        self.relearn_us, self.relearn_hard0_us = _step_intervals(relearning_steps_min)
        # Terms fsrs recomputes at every step but which depend only on the parameters.
        self.easy_d0 = p[4] - (_E ** (p[5] * (4 - 1))) + 1  # initial difficulty of Easy, unclamped
        self.forget_short_div = _E ** (p[17] * p[18])
        self.e_p8 = _E ** p[8]
        self.init_d = tuple(min(max(p[4] - (_E ** (p[5] * (r - 1))) + 1, MIN_DIFFICULTY),
                                MAX_DIFFICULTY) for r in (1, 2, 3, 4))
        self.init_s = tuple(max(p[r - 1], STABILITY_MIN) for r in (1, 2, 3, 4))
        # Per-rating factors (index = rating; 0 unused), each the very subexpression fsrs
        # evaluates, so the products that use them round the same way.
        self.short_k = (0.0, *(_E ** (p[17] * (r - 3 + p[18])) for r in (1, 2, 3, 4)))
        self.delta_d = (0.0, *(-(p[6] * (r - 3)) for r in (1, 2, 3, 4)))
        self.revert_a = p[7] * self.easy_d0
        self.revert_b = 1 - p[7]

    # ---- the formulas (same operand order as fsrs, so the same rounding) --------------------
    # min()/max() with a constant are written as comparisons: the same result (NaN included:
    # max(nan, c) is nan, and so is a comparison that never fires), without two calls.

    def interval_days(self, s: float) -> int:
        days = round((s / self.factor) * self.interval_k)
        return min(max(days, 1), self.max_interval)

    def _short_term(self, s: float, rating: int) -> float:
        inc = self.short_k[rating] * (s ** -self.p[19])
        if rating > 1 and inc < 1.0:
            inc = 1.0
        s = s * inc
        return STABILITY_MIN if s < STABILITY_MIN else s

    def _next_d(self, d: float, rating: int) -> float:
        nd = self.revert_a + self.revert_b * (d + (10.0 - d) * self.delta_d[rating] / 9.0)
        return MIN_DIFFICULTY if nd < MIN_DIFFICULTY else (MAX_DIFFICULTY if nd > MAX_DIFFICULTY
                                                           else nd)

    def _next_s(self, d: float, s: float, elapsed_days: int | None, rating: int) -> float:
        p = self.p
        if elapsed_days is None:
            r = 0  # fsrs: no last review means a retrievability of 0
        else:
            r = (1 + self.factor * (elapsed_days if elapsed_days > 0 else 0) / s) ** self.decay
        if rating == 1:
            long_term = (p[11] * (d ** -p[12]) * (((s + 1) ** (p[13])) - 1)
                         * (_E ** ((1 - r) * p[14])))
            short = s / self.forget_short_div
            ns = short if short < long_term else long_term
        else:
            grow = self.e_p8 * (11 - d) * (s ** -p[9]) * ((_E ** ((1 - r) * p[10])) - 1)
            if rating == 2:
                grow = grow * p[15]
            elif rating == 4:
                grow = grow * p[16]
            ns = s * (1 + grow)
        return STABILITY_MIN if ns < STABILITY_MIN else ns

    # ---- one review ---------------------------------------------------------------------------

    def review(self, state: int, step: int | None, s: float | None, d: float | None,
               last_ms: int | None, rating: int, at_ms: int) -> Step:
        """The card after a review with `rating` (1-4) at `at_ms`. A new card is passed as
        state LEARNING, step 0, no stability, difficulty or last review (as fsrs starts it)."""
        elapsed = None if last_ms is None else (at_ms - last_ms) // _MS_PER_DAY
        if state == LEARNING and step is None:
            step = 0  # as fsrs' Card does for a learning card without a step
        if state == REVIEW:
            if s is None or d is None:
                raise ValueError("a review card needs a stability and a difficulty")
            if elapsed is not None and elapsed < 1:
                s = self._short_term(s, rating)
            else:
                s = self._next_s(d, s, elapsed, rating)
            d = self._next_d(d, rating)
            if rating == 1 and self.relearn_us:
                state, step, iv_us = RELEARNING, 0, self.relearn_us[0]
            else:
                iv_us = self.interval_days(s) * _US_PER_DAY
        elif state == LEARNING or state == RELEARNING:
            steps_us = self.learn_us if state == LEARNING else self.relearn_us
            hard0_us = self.learn_hard0_us if state == LEARNING else self.relearn_hard0_us
            if s is None or d is None:
                if state != LEARNING:
                    raise ValueError("a relearning card needs a stability and a difficulty")
                s, d = self.init_s[rating - 1], self.init_d[rating - 1]
            elif elapsed is not None and elapsed < 1:
                s, d = self._short_term(s, rating), self._next_d(d, rating)
            else:
                s, d = self._next_s(d, s, elapsed, rating), self._next_d(d, rating)
            if step is None:
                raise ValueError("a learning or relearning card needs a step")
            n = len(steps_us)
            if n == 0 or (step >= n and rating > 1) or rating == 4 or (
                    rating == 3 and step + 1 == n):
                state, step = REVIEW, None
                iv_us = self.interval_days(s) * _US_PER_DAY
            elif rating == 1:
                step, iv_us = 0, steps_us[0]
            elif rating == 2:
                iv_us = hard0_us if step == 0 else steps_us[step]
            else:  # Good, not on the last step
                step += 1
                iv_us = steps_us[step]
        else:
            raise ValueError(f"unknown card state {state}")
        # fsrs: due = review time + interval (a datetime), then read back as epoch ms through
        # timestamp(): microseconds / 10**6 as a float, times 1000, rounded.
        due_ms = int(round((at_ms * 1000 + iv_us) / 1_000_000 * 1000))
        return state, step, s, d, due_ms

"""Cost of one FSRS review step: the fsrs package (Card and datetime objects, as apply_review
used it) against domain/fsrs_fast.py through apply_review and replay, on the same histories.

Histories: 2,000 items of 10 reviews each (ratings mostly Good, some Again, Hard, Easy; gaps
from a minute to months), replayed whole; the figure is microseconds per review. CPU time
(process_time) is reported beside wall time: the machine is shared.

Run: python bench/fsrs_step.py
"""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta

from _common import Table

from cmqprep.domain.scheduling import (
    NEW,
    Grade,
    SchedState,
    SchedulerConfig,
    apply_review,
    from_ms,
    replay,
    to_ms,
)

ITEMS, PER_ITEM, RUNS = 2000, 10, 7
T0 = 1_700_000_000_000


def histories(seed: int = 1) -> list[list[tuple[int, Grade]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(ITEMS):
        at, log = T0 + rng.randrange(10**9), []
        for _ in range(PER_ITEM):
            at += rng.choice([60_000, 600_000, 86_400_000, 3 * 86_400_000, 20 * 86_400_000,
                              90 * 86_400_000])
            log.append((at, Grade(rng.choices([1, 2, 3, 4], [10, 10, 70, 10])[0])))
        out.append(log)
    return out


def package_step(cfg: SchedulerConfig):  # type: ignore[no-untyped-def]
    """The step as apply_review computed it through the fsrs package (before fsrs_fast)."""
    import fsrs

    sched = fsrs.Scheduler(desired_retention=cfg.desired_retention,
                           learning_steps=tuple(timedelta(minutes=m)
                                                for m in cfg.learning_steps_min),
                           relearning_steps=tuple(timedelta(minutes=m)
                                                  for m in cfg.relearning_steps_min),
                           maximum_interval=cfg.maximum_interval_days, enable_fuzzing=False)

    def step(s: SchedState, grade: Grade, at_ms: int) -> SchedState:
        if s.state == NEW:
            card = fsrs.Card(card_id=1, state=fsrs.State.Learning, step=0, due=from_ms(at_ms))
        else:
            card = fsrs.Card(card_id=1, state=fsrs.State(s.state), step=s.step,
                             stability=s.stability, difficulty=s.difficulty,
                             due=from_ms(s.due_ms or at_ms),
                             last_review=from_ms(s.last_review_ms)
                             if s.last_review_ms is not None else None)
        card, _ = sched.review_card(card, fsrs.Rating(int(grade)), review_datetime=from_ms(at_ms))
        return SchedState(int(card.state), card.step, card.stability, card.difficulty,
                          max(to_ms(card.due), at_ms), at_ms, s.reps + 1, s.lapses)
    return step


def per_review(fn, logs) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    n = sum(map(len, logs))
    wall, cpu = time.perf_counter(), time.process_time()
    fn(logs)
    return ((time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6)


def main() -> None:
    cfg = SchedulerConfig()
    logs = histories()
    step = package_step(cfg)

    def with_package(logs):  # type: ignore[no-untyped-def]
        for log in logs:
            s = SchedState()
            for at, g in log:
                s = step(s, g, at)

    def with_apply_review(logs):  # type: ignore[no-untyped-def]
        for log in logs:
            s = SchedState()
            for at, g in log:
                s = apply_review(s, g, at, cfg)

    def with_replay(logs):  # type: ignore[no-untyped-def]
        for log in logs:
            replay(log, cfg)

    # the paths agree (tests/test_fsrs_fast.py checks it bit for bit on random histories)
    fields = ("state", "step", "stability", "difficulty", "due_ms", "last_review_ms", "reps")
    for log in logs[:200]:
        s = SchedState()
        for at, g in log:
            s = step(s, g, at)
        fast = replay(log, cfg)
        assert all(getattr(fast, f) == getattr(s, f) for f in fields), (fast, s)
    table = Table("fsrs_step", "one FSRS review step (microseconds per review)")
    for label, fn in (("fsrs package step (before)", with_package),
                      ("apply_review (fsrs_fast)", with_apply_review),
                      ("replay per review (fsrs_fast)", with_replay)):
        fn(logs[:50])  # warm up
        walls, cpus = zip(*(per_review(fn, logs) for _ in range(RUNS)), strict=True)
        table.add(label + ", wall", list(walls), unit="us")
        table.add(label + ", CPU", list(cpus), unit="us")
    table.note(f"{ITEMS} items x {PER_ITEM} reviews, {RUNS} runs; load average "
               f"{os.getloadavg()[0]:.2f} at the end. Floor: none (pure Python, no database).")
    table.emit()


if __name__ == "__main__":
    main()

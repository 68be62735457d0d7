"""Keypress -> next card painted in the TUI (Textual Pilot, headless, 80x24) at 100k items.

Each sample runs from just before Pilot sends the key to the first screen update the app
composes after the key's action has finished (App._display is called with the compositor's
update; headless, nothing is written to a terminal). Pilot's own waiting (it sleeps until the
process is idle, 20 ms slices) is not counted. Keys start once the home screen's background
report (a worker thread) has finished. Screen updates are paced by Textual's refresh
timer (60 per second), which is part of what a user sees. Floor: the service-layer work alone
for the same keys (answer + next_card), measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import time
from datetime import timedelta

from _common import NOW, Table, working_copy
from _synth import ensure_db

N = 200


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


async def drive(ctx, clock: Clock) -> tuple[list[float], list[float], list[float]]:  # type: ignore[no-untyped-def]
    from cmqprep.ui.app import make_app
    from cmqprep.ui.screens.study import StudyScreen

    app = make_app(ctx, start=("study", None))
    answer_keys, next_keys, service = [], [], []
    rng = random.Random(5)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # the home screen (under the study screen) computes its report in a worker thread;
        # let it finish, or the first seconds of keys compete with it for the GIL
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StudyScreen)
        displays: list[float] = []
        done: list[float] = []
        paint = app._display

        def display(scr, renderable):  # type: ignore[no-untyped-def]
            if renderable is not None:
                displays.append(time.perf_counter())
            paint(scr, renderable)

        app._display = display  # type: ignore[method-assign]
        for name in ("action_choose", "action_next", "action_grade"):
            action = getattr(screen, name)

            def wrapped(*a, _action=action):  # type: ignore[no-untyped-def]
                _action(*a)
                done.append(time.perf_counter())

            setattr(screen, name, wrapped)

        async def press(key: str) -> float:
            await pilot.pause()
            done.clear()
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            assert done, key
            return (min(d for d in displays if d >= done[-1]) - t) * 1000

        for _ in range(N + 5):
            card = screen.card
            if card is None:
                break
            clock.now += timedelta(seconds=8)
            right = rng.random() < 0.85
            if card.kind == "question":
                key = "abcd"[card.answer if right else (card.answer + 1) % 4]
                answer_keys.append(await press(key))  # records the answer, shows the verdict
                next_keys.append(await press("enter"))  # next card
            else:
                await pilot.press("space")
                await pilot.pause()
                next_keys.append(await press("3" if right else "1"))  # rate, next card
            assert screen.card is None or screen.card.item_id != card.item_id or not right
        # the service-layer share of the same work, on the same session
        sess = screen.session
        for _ in range(N):
            c = sess.next_card()
            if c is None:
                break
            clock.now += timedelta(seconds=8)
            t = time.perf_counter()
            if c.kind == "question":
                sess.answer_choice(c, c.answer, 5000)
            else:
                from cmqprep.domain.scheduling import Grade

                sess.rate(c, Grade.GOOD, 5000)
            sess.next_card()
            service.append((time.perf_counter() - t) * 1000)
    return answer_keys[3:], next_keys[3:], service[3:]


def main() -> None:
    from dataclasses import replace

    from cmqprep.db.engine import default_url
    from cmqprep.services.context import open_context

    db = ensure_db()
    path = working_copy(db)
    load_before = os.getloadavg()
    clock = Clock()
    ctx = open_context(path.parent, default_url(path.parent).replace("cmqprep.sqlite", path.name),
                       "default", clock, random.Random(1))
    ctx.settings = replace(ctx.settings, reviews_per_day=99999)
    answer_keys, next_keys, service = asyncio.run(drive(ctx, clock))
    table = Table("tui_keypress", "keypress -> next card painted, Textual Pilot headless 80x24")
    table.add("enter/rating key -> next card painted", next_keys, service, "p95 <= 16 ms")
    table.add("a-d key -> answer committed, verdict painted", answer_keys, None, "p95 <= 16 ms")
    table.note("floor column: answer + next_card in the service layer alone (same run), so the")
    table.note("ratio is the cost of the UI update on top of the database work.")
    load_after = os.getloadavg()
    table.note(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    table.emit()
    ctx.engine.dispose()
    shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

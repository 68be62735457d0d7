"""The statistics screen drawn from a fixed clock and a seeded history (snapshot:
tests/__snapshots__/test_stats_snapshot/)."""

from __future__ import annotations

from cmqprep.ui.app import make_app
from tests.conftest import with_settings
from tests.test_stats_report import seed


def test_stats_screen_snapshot(snap_compare, ctx) -> None:
    seed(ctx)
    with_settings(ctx, exam_date="2026-03-23")

    async def open_stats(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(ctx), run_before=open_stats, terminal_size=(80, 60))

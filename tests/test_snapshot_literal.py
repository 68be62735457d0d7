"""A card whose stem and options carry Rich/Textual markup and ANSI/OSC escape sequences is
drawn as plain text on the study screen (snapshot: tests/__snapshots__/test_snapshot_literal/)."""

from __future__ import annotations

import random
from pathlib import Path

from cmqprep.config import Settings
from cmqprep.db.engine import default_url
from cmqprep.services.context import open_context
from cmqprep.ui.app import make_app
from tests.conftest import FakeClock, question, write_pack

# TOML escapes: \u001b is ESC, \u0007 BEL; the OSC 8 hyperlink and OSC 0 title would act on a
# real terminal if they reached it; the markup would turn bold, red or clickable in Textual.
STEM = (r"[bold]Bold?[/] [@click=app.quit]quit[/] \u001b[31mred\u001b[0m "
        r"\u001b]0;pwned\u0007 \u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\ "
        r"[link=https://evil.example]x[/link] \u202eevil")
OPTIONS = ["[red]a[/red] option", "b [/] option", r"\u001b[2J\u001b[H cleared?",
           r"\\[escaped] [/bold]"]


def test_markup_and_escapes_are_drawn_as_plain_text(snap_compare, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "hostile", question("h1", stem=STEM, options=OPTIONS))
    data = tmp_path / "data"
    ctx = open_context(data, default_url(data), "default", FakeClock(), random.Random(3),
                       bank_dir=pack)
    ctx.settings = Settings(timezone="UTC")
    try:
        assert snap_compare(make_app(ctx, start=("study", None)), terminal_size=(80, 24))
    finally:
        ctx.engine.dispose()

"""The study card's text widget: wrapping with indents and gaps, redrawn for a new width."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content

from cmqprep.ui.widgets.card_text import Block, CardText, wrap_blocks

LONG = "word " * 30


def test_blocks_wrap_with_their_gaps_and_keep_the_indent_on_every_line() -> None:
    blocks = (Block(Content("Stem"), "bold", 1, 0, "prompt"),
              Block(Content("a)  " + LONG.strip()), "", 1, 2, "opt0"),
              Block(Content("b)  short"), "", 0, 2, "opt1"))
    lines = [line.plain for line in wrap_blocks(blocks, 30)]
    assert lines[:3] == ["", "Stem", ""]
    option_a = lines[3:-1]
    assert len(option_a) > 3 and all(line.startswith("  ") for line in option_a)
    assert all(len(line.rstrip()) <= 30 for line in lines)
    assert lines[-1] == "  b)  short"
    assert " ".join(" ".join(option_a).split()) == "a) " + " ".join(LONG.split())  # no word lost


async def test_the_card_rewraps_when_the_terminal_is_resized() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield CardText(id="card-text")

    app = Host()
    async with app.run_test(size=(80, 10)) as pilot:
        card = app.query_one(CardText)
        card.set_blocks((Block(Content(LONG), "", 0, 0, "prompt"),))
        await pilot.pause()
        wide = len(card.lines)
        assert card.text("prompt") == LONG and card.text("verdict") == ""
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert len(card.lines) > wide
        assert card.virtual_size.height == len(card.lines)
        assert all(line.cell_length <= card.scrollable_content_region.width for line in card.lines)


async def test_a_new_card_starts_at_the_top_but_an_answer_keeps_the_scroll_position() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield CardText(id="card-text")

    app = Host()
    async with app.run_test(size=(40, 6)) as pilot:
        card = app.query_one(CardText)
        card.set_blocks((Block(Content(LONG * 3)),))
        await pilot.pause()
        card.scroll_to(0, 4, animate=False, immediate=True)
        await pilot.pause()
        card.set_blocks((Block(Content(LONG * 3)), Block(Content("Right: a."), gap=1)), top=False)
        await pilot.pause()
        assert card.scroll_y == 4
        card.set_blocks((Block(Content(LONG * 3)),))
        await pilot.pause()
        assert card.scroll_y == 0

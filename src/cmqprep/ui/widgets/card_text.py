"""A study card drawn by one scrolling widget: styled, indented text blocks, wrapped once."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class Block:
    """One paragraph of a card: its text, a style (theme variables allowed), the blank lines
    before it, an indent kept on every wrapped line, and a name to find it by."""

    content: Content
    style: str = ""
    gap: int = 0
    indent: int = 0
    name: str = ""


def wrap_blocks(blocks: tuple[Block, ...], width: int) -> list[Content]:
    """The card's screen lines at `width` cells: gaps as blank lines, indents on every line."""
    lines: list[Content] = []
    for block in blocks:
        lines.extend(Content("") for _ in range(block.gap))
        text = block.content.stylize_before(block.style) if block.style else block.content
        pad = " " * block.indent
        for line in text.wrap(max(1, width - block.indent)):
            lines.append(pad + line if pad else line)
    return lines


class CardText(ScrollView, can_focus=True):
    """The text of a study card (stem, options, verdict, explanation, hints) in one widget.

    One widget per card part meant a dozen widgets to lay out, measure and re-render on each
    key, and a second layout pass whenever one of them changed height (every card). This widget
    keeps a fixed size and draws its own lines (Textual's line API), so a new card costs one
    wrap of its text and one frame; options keep their indent on continuation lines.
    """

    DEFAULT_CSS = """
    CardText {
        height: 1fr;
        padding: 0 1;
        overflow-x: hidden;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.blocks: tuple[Block, ...] = ()
        self.lines: list[Content] = []
        self._width = 0
        self._strips: dict[int, Strip] = {}

    def set_blocks(self, blocks: tuple[Block, ...], top: bool = True) -> None:
        """Show these blocks, from the top or (top=False) where the reader had scrolled to."""
        self.blocks = blocks
        self._wrap(self.scrollable_content_region.width)
        if top:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def plain(self) -> str:
        """The card's text without styles or wrapping (blocks separated by newlines)."""
        return "\n".join(b.content.plain for b in self.blocks)

    def text(self, name: str) -> str:
        """The plain text of the block called `name`, or "" if the card does not show it."""
        return next((b.content.plain for b in self.blocks if b.name == name), "")

    def _wrap(self, width: int) -> None:
        self._width = width
        self.lines = wrap_blocks(self.blocks, width) if width > 0 else []
        self._strips.clear()
        self.virtual_size = Size(width, len(self.lines))

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._wrap(width)
            self.refresh()

    def notify_style_update(self) -> None:
        self._strips.clear()  # the theme or the CSS changed: draw the lines again
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        index = scroll_y + y
        strip = self._strips.get(index)
        if strip is None:  # each line is drawn once per card (and width, and theme)
            width = self._width
            base = self.rich_style
            if index >= len(self.lines):
                strip = Strip.blank(width, base)
            else:
                line = self.lines[index]
                strip = Strip(line.render_segments(self.visual_style), line.cell_length)
                strip = strip.crop_extend(0, width, base)
            self._strips[index] = strip
        return strip

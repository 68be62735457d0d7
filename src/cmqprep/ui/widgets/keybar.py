"""The key bar: the screen's live key bindings, drawn as text (one line, or two if needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

# (key to simulate on click, key as shown, description, enabled)
KeyEntry = tuple[str, str, str, bool]


class KeyBar(Widget, can_focus=False):
    """Shows the keys that work now, like Textual's Footer, at a fixed cost per change.

    Textual's Footer recomposes (removes and mounts one widget per key) each time a screen
    calls refresh_bindings(); the removed keys stay referenced by data-binding watchers on the
    Footer (Textualize/textual#6666), so a study run that changes phase twice per card grew
    without bound, and the remount took a large share of each keypress. This bar keeps the
    keys as a tuple, repaints only when that tuple changes, and never mounts children.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        max-height: 3;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.keys: tuple[KeyEntry, ...] = ()
        self._spans: list[tuple[int, int, int, str, bool]] = []  # y, x range -> key (clicks)
        self._laid_out: tuple[tuple[KeyEntry, ...], int, Content] | None = None

    def on_mount(self) -> None:
        # immediate: the bar changes in the same frame as the screen that changed its keys
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed,
                                                     immediate=True)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        keys = self.live_keys(screen)
        if keys != self.keys:  # most phase changes of a study run keep the same keys
            self.keys = keys
            self.refresh(layout=True)  # one line or two, depending on the keys

    def live_keys(self, screen: Screen) -> tuple[KeyEntry, ...]:
        """The shown bindings that are active on `screen` now, one entry per action."""
        seen: set[str] = set()
        out: list[KeyEntry] = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((binding.key, self.app.get_key_display(binding), binding.description,
                        active.enabled))
        return tuple(out)

    def _layout(self, width: int) -> Content:
        """The keys as text, whole entries per line: a second line rather than lost keys."""
        if self._laid_out is not None and self._laid_out[:2] == (self.keys, width):
            return self._laid_out[2]
        key_style = self.get_visual_style("keybar--key")
        desc_style = self.get_visual_style("keybar--description")
        dim_key = self.get_visual_style("keybar--key", "keybar--disabled")
        dim_desc = self.get_visual_style("keybar--description", "keybar--disabled")
        parts: list[tuple[str, object] | str] = []
        spans: list[tuple[int, int, int, str, bool]] = []
        x = y = 0
        for key, shown, description, enabled in self.keys:
            key_text = f" {shown} "
            desc_text = f"{description} " if description else ""
            size = cell_len(key_text) + cell_len(desc_text)
            if x and x + size > width:
                parts.append("\n")
                x, y = 0, y + 1
            parts.append((key_text, key_style if enabled else dim_key))
            if desc_text:
                parts.append((desc_text, desc_style if enabled else dim_desc))
            spans.append((y, x, x + size, key, enabled))
            x += size
        self._spans = spans
        content = Content.assemble(*parts)  # type: ignore[arg-type]
        self._laid_out = (self.keys, width, content)
        return content

    def notify_style_update(self) -> None:
        self._laid_out = None  # theme or CSS changed
        super().notify_style_update()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._layout(width).plain.count("\n") + 1

    def render(self) -> Content:
        return self._layout(self.content_region.width or self.size.width)

    def key_at(self, x: int, y: int = 0) -> tuple[str, bool] | None:
        """The key drawn at column x of line y (and whether it is enabled), or None."""
        for line, start, end, key, enabled in self._spans:
            if line == y and start <= x < end:
                return key, enabled
        return None

    def on_click(self, event: events.Click) -> None:
        hit = self.key_at(event.x, event.y)
        if hit is None:
            return
        key, enabled = hit
        if enabled:
            self.app.simulate_key(key)
        else:
            self.app.bell()

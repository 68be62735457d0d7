"""A dialog for a database that cannot be written or read (full disk, read-only file, damage)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from cmqprep.ui.literal import literal

ADVICE = ("What to do: free some disk space (or fix the permissions of the data directory), "
          "then try again. To check the database itself, run 'cmqprep doctor' in another "
          "terminal.")


class StorageErrorDialog(ModalScreen[None]):
    """Says what failed, what was and was not saved, and what to do; the app keeps running."""

    DEFAULT_CSS = """
    StorageErrorDialog {
        align: center middle;
    }
    StorageErrorDialog > Vertical {
        width: 70;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $error;
        background: $panel;
        padding: 0 1;
    }
    StorageErrorDialog #storage-title {
        text-style: bold;
        color: $error;
    }
    StorageErrorDialog #storage-saved {
        text-style: bold;
        margin: 1 0 0 0;
    }
    StorageErrorDialog #storage-advice {
        margin: 1 0 0 0;
    }
    StorageErrorDialog #storage-keys {
        color: $text-muted;
        margin: 1 0 0 0;
    }
    """
    BINDINGS = [
        Binding("enter", "close", "Close", priority=True),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, problem: str, saved: str, title: str = "Could not use the database"):
        super().__init__()
        self.title_text, self.problem, self.saved = title, problem, saved

    def compose(self) -> ComposeResult:
        # The problem text comes from the database driver: shown literally, like pack text.
        with Vertical():
            yield Static(literal(self.title_text), id="storage-title")
            yield Static(literal(self.problem[:1].upper() + self.problem[1:].rstrip(".") + "."),
                         id="storage-problem")
            yield Static(literal(self.saved), id="storage-saved")
            yield Static(literal(ADVICE), id="storage-advice")
            yield Static(literal("Enter / Esc: close"), id="storage-keys")

    def action_close(self) -> None:
        self.dismiss(None)

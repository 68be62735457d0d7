"""Showing untrusted text (from packs, exports, users) literally.

Text is never parsed as Rich/Textual markup, and control characters (which could carry terminal
escape sequences) are replaced by visible placeholders before anything reaches the screen.
"""

from __future__ import annotations

import re

from textual.content import Content

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control picture", e.g. ␛ for ESC
    return "\ufffd"


def clean(text: str) -> str:
    """Replace control and bidi-override characters with visible placeholders; keep newlines, tabs."""
    return _CONTROL.sub(_visible, text)


def literal(text: str) -> Content:
    """A Content that shows `text` exactly as written (no markup, no escape sequences)."""
    return Content(clean(text))

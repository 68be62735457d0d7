"""Textual user interface: screens call services; no screen runs SQL."""

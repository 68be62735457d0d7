"""cmqprep: a terminal study tool for the ASQ CMQ/OE exam."""

__version__ = "0.1.0"

"""Small reusable widgets for the cmqprep screens."""

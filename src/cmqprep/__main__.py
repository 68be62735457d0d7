"""Entry point for `python -m cmqprep`."""

from cmqprep.cli import main

raise SystemExit(main())

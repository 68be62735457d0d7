"""Command groups of the CLI, one module each; heavy imports stay inside the handlers."""

"""Use cases. Each call owns its session; nothing here imports Textual."""

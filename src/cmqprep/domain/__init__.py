"""Pure domain model: no Textual, no SQLAlchemy."""

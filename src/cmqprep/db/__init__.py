"""Storage: SQLAlchemy models, the engine factory, Alembic migrations and queries."""

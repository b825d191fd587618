"""Alembic migrations shipped with allguide (run by `Database.migrate()`)."""

"""Database: migrations from empty on both backends, models match migrations, engine setup."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from allguide.store import Database, DatabaseError
from allguide.store.db import normalize_url
from allguide.store.models import Base

TABLES = {
    "alembic_version",
    "api_tokens",
    "audit_log",
    "cds_feedback",
    "cds_seen_tokens",
    "content_files",
    "content_item_versions",
    "content_items",
    "content_version_items",
    "content_versions",
    "conversations",
    "plans",
    "user_sessions",
    "users",
}


def test_migrate_from_empty_creates_schema_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert db.current_revision() is None
        head = db.migrate()
        assert head == Database.head_revision() == db.current_revision()
        assert set(inspect(db.engine).get_table_names()) == TABLES
        assert db.migrate() == head  # second start: nothing to do
    finally:
        db.dispose()


def test_models_match_migrations(database_url: str) -> None:
    """Autogenerate finds no difference: nobody changed a model without a migration."""
    db = Database(database_url)
    try:
        db.migrate()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_session_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        with pytest.raises(RuntimeError), db.session() as session:
            session.execute(
                text("INSERT INTO conversations VALUES ('c1', '{}', :t, :t)"),
                {"t": "2026-01-01 00:00:00"},
            )
            raise RuntimeError("boom")
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM conversations")).scalar() == 0
    finally:
        db.dispose()


def test_sqlite_has_foreign_keys_and_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/sub/dir/a.db")  # parent dirs are created
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        db.dispose()
    assert (tmp_path / "sub" / "dir" / "a.db").exists()


def test_urls() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///var/x.db").drivername == "sqlite"
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(DatabaseError, match="not a database URL"):
        normalize_url("not a url")

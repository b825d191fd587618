"""`Database`: one engine per URL, sessions, and migrations shipped inside the package.

SQLite is the default (a file, nothing to start); PostgreSQL is used when the URL says so
(`postgresql://...` is read as `postgresql+psycopg://...`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from allguide.defaults import DEFAULT_DATABASE_URL as DEFAULT_DATABASE_URL

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works: it only has to be the same for every allguide process.
_MIGRATION_LOCK_KEY = 0x616C6C67  # "allg"


class DatabaseError(Exception):
    """The database URL or server cannot be used; the message says why."""


def utc_now() -> dt.datetime:
    """The edge's clock. Repositories take `now` from callers; this is the default."""
    return dt.datetime.now(dt.UTC)


def normalize_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"'{url}' is not a database URL; expected e.g. sqlite:///var/allguide.db or "
            "postgresql://user:password@host:5432/allguide"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise DatabaseError(f"unsupported database '{backend}': use sqlite or postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")  # wait for a writer instead of failing at once
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    cursor.close()


class Database:
    """Engine + session factory for one database URL."""

    def __init__(self, url: str = DEFAULT_DATABASE_URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = self._create_engine(echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _create_engine(self, echo: bool) -> Engine:
        if self.url.get_backend_name() != "sqlite":
            return create_engine(self.url, echo=echo, pool_pre_ping=True)
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if not database or database == ":memory:":
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        engine = create_engine(self.url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on an exception."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> str:
        """Upgrade the schema to the newest migration; returns the revision id.

        Safe to call at every start: a no-op when up to date. On PostgreSQL an advisory
        lock keeps several starting workers from migrating at once.
        """
        from alembic import command

        config = _alembic_config()
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        revision = self.current_revision()
        assert revision is not None
        return revision

    def current_revision(self) -> str | None:
        """The schema revision in the database, or None before the first migration."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @staticmethod
    def head_revision() -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None
        return head

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config

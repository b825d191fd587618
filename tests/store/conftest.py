"""Store test helpers: an opened, migrated Database per test, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allguide.store import Database


@pytest.fixture
def db(seeded_database_url: str) -> Iterator[Database]:
    """Migrated, holding the bundled content pack as version 1."""
    database = Database(seeded_database_url)
    yield database
    database.dispose()


@pytest.fixture
def empty_db(database_url: str) -> Iterator[Database]:
    """Migrated, no content."""
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()

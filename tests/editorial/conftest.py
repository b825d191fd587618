"""Editorial test helpers: a seeded database, users, and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from editorial_clock import Clock

from allguide.accounts import Role
from allguide.store import Database, UserRecord


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(seeded_database_url: str) -> Iterator[Database]:
    database = Database(seeded_database_url)
    yield database
    database.dispose()


@pytest.fixture
def users(clock: Clock) -> dict[str, UserRecord]:
    """alice, amy: authors; bob, rita: reviewers; ada: admin. The service only needs
    their names and roles (logging in is the web layer's job)."""
    roles = {
        "alice": Role.author,
        "amy": Role.author,
        "bob": Role.reviewer,
        "rita": Role.reviewer,
        "ada": Role.admin,
    }
    return {
        name: UserRecord(i, name, role, None, True, clock.now)
        for i, (name, role) in enumerate(roles.items(), start=1)
    }

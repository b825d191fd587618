"""Fixtures for the web app: a running app (lifespan included) on SQLite and PostgreSQL.

- `api`: one app per backend for the module (read-mostly tests); do not change content
  or rely on rate limits with it.
- `fresh_settings` / `fresh_api`: a new app on a fresh seeded database for each test
  (editorial changes, rate limits, start-up behaviour).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import Api, make_settings, running

from allguide.web.settings import Settings

_names = itertools.count(1)


def _seeded_copy(backend: str, request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A copy of the seeded database (db_fixtures.seeded_database_url), kept for a module."""
    if backend == "sqlite":
        seed: Path = request.getfixturevalue("_sqlite_seed")
        path = directory / "allguide.db"
        shutil.copyfile(seed, path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("_pg_seed")
    name = f"web{os.getpid()}_{next(_names)}"
    url: str = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("web")
    for url in _seeded_copy(str(request.param), request, directory):
        with running(make_settings(url, directory / "var")) as started:
            yield started


@pytest.fixture
def fresh_settings(seeded_database_url: str, tmp_path: Path) -> Settings:
    return make_settings(seeded_database_url, tmp_path / "var")


@pytest.fixture
def fresh_api(fresh_settings: Settings) -> Iterator[Api]:
    with running(fresh_settings) as started:
        yield started

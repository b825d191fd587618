"""Helpers for the web tests (imported by name: tests/web is on sys.path while they run).

Each `Api` has users alice (author), bob (reviewer), carol (admin) and dave (author),
with API tokens, and an https `TestClient` (so `Secure` cookies behave as in production).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from allguide.web.app import create_app
from allguide.web.settings import RateLimit, Settings

ROOT = Path(__file__).resolve().parents[2]
USERS = {"alice": "author", "bob": "reviewer", "carol": "admin", "dave": "author"}
PASSWORD = "correct horse battery"
OFF = RateLimit(requests=0, period_seconds=1)

# A small valid patient (child, B-ALL).
CHILD: dict[str, Any] = {
    "age_years": 5,
    "sex": "female",
    "lineage": "B",
    "wbc_x10e9_per_l": 12.5,
    "weight_kg": 18.4,
    "height_cm": 108,
}


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def make_settings(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "var_dir": var_dir,
        "ask_semantic": False,  # lexical retrieval: fast start-up; tests/ask covers semantic
        "rate_limit_login": OFF,
        "rate_limit_write": OFF,
        "content_poll_seconds": 3600,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def running(settings: Settings, app: FastAPI | None = None) -> Iterator[Api]:
    """The app with its lifespan run (migrations, content, index), plus test users."""
    app = app or create_app(settings)
    with TestClient(app, base_url="https://testserver") as client:
        api = Api(app, client, settings)
        api.tokens = add_users(app)
        yield api


def add_users(app: FastAPI) -> dict[str, str]:
    from argon2 import PasswordHasher

    import allguide.accounts.passwords as passwords
    from allguide.store import UserRepository

    tokens = {}
    # Cheap hashing parameters: creating users must not dominate test time.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        with app.state.db.session() as session:
            repo = UserRepository(session)
            for name, role in USERS.items():
                if repo.get(name) is None:
                    repo.add(name, PASSWORD, role)
                tokens[name], _ = repo.issue_token(name, label="tests")
    return tokens

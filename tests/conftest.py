"""Shared fixtures: the real content pack, loaded once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentPack, assemble, parse_pack
from allguide.patient.intake import parse_patient
from allguide.patient.model import PatientInput

ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["db_fixtures"]  # database_url / seeded_database_url / pg_server


@pytest.fixture(scope="session")
def pack() -> ContentPack:
    parsed, version = parse_pack(DEFAULT_CONTENT_DIR)
    built, _ = assemble(parsed, version)
    return built


@pytest.fixture
def patient(pack: ContentPack):  # type: ignore[no-untyped-def]
    def make(**fields: Any) -> PatientInput:
        return parse_patient(fields, pack)

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser journeys last.

    Playwright's sync API keeps an asyncio loop running for the rest of the session, and
    any later test that starts its own loop (TestClient, anyio) would then fail.
    """
    items.sort(key=lambda item: "tests/browser/" in item.path.as_posix())

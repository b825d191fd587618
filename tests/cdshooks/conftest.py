"""Fixtures for the CDS Hooks tests: a mock EHR, a real FHIR server, the app under test.

The app is the deployed one (`web.app.create_app`); a few auth tests also mount the router
on a bare FastAPI app (cds_helpers.bare_app). Tests talk to it in process through
`httpx.ASGITransport`; the JWKS and the FHIR server are real HTTP servers on loopback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from cds_helpers import PUBLIC_URL, TENANT_ISS, example_bundles, real_app
from fastapi import FastAPI
from medplum_server import FhirServer, start
from mock_ehr import MockEhr

from allguide.knowledge.pack import ContentPack


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Session scope: the app (and its lifespan) lives on one event loop for all tests."""
    return "asyncio"


@pytest.fixture(scope="session")
def ehr() -> Iterator[MockEhr]:
    mock = MockEhr().start()
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def tenant_ehr() -> Iterator[MockEhr]:
    """A second trusted EHR, limited to tenant 'org-a'."""
    mock = MockEhr(iss=TENANT_ISS, algorithms=("ES384",)).start()
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def fhir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    tmp = tmp_path_factory.mktemp("fhir-seed")
    paths = []
    for name, bundle in example_bundles().items():
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        paths.append(path)
    server = start(paths)
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def app(
    ehr: MockEhr, tenant_ehr: MockEhr, pack: ContentPack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    real = real_app(ehr, tenant_ehr, tmp_path_factory.mktemp("app"))
    async with real.router.lifespan_context(real):  # migrate, import content, serve
        yield real


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as c:
        yield c

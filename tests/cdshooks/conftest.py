"""Fixtures for the CDS Hooks tests: a mock EHR, a real FHIR server, the app under test.

The app is the deployed one (`web.app.create_app`); a few auth tests also mount the router
on a bare FastAPI app (cds_helpers.bare_app). Tests talk to it in process through
`httpx.ASGITransport`; the JWKS and the FHIR server are real HTTP servers on loopback.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cds_helpers import (
    BROWSER_ORIGIN,
    PUBLIC_URL,
    TENANT_ISS,
    example_bundles,
)
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


def _real_app(ehr: MockEhr, tenant_ehr: MockEhr, tmp: Path) -> FastAPI:
    """The deployed app (web.app.create_app) configured for the mock EHRs."""
    from allguide.web.app import create_app
    from allguide.web.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp / 'allguide.db'}",
        var_dir=tmp,
        public_url=PUBLIC_URL,
        cors_origins=(BROWSER_ORIGIN,),
        ask_semantic=False,  # the hooks do not use the ask index: skip the embeddings
        cds={
            "issuers": [
                ehr.issuer_settings(algorithms=["ES384", "RS384", "ES256"]),
                tenant_ehr.issuer_settings(algorithms=["ES384"], tenants=["org-a"]),
            ]
        },
    )
    previous = os.environ.get("ALLGUIDE_CDS_FHIR_ALLOW_HTTP")
    os.environ["ALLGUIDE_CDS_FHIR_ALLOW_HTTP"] = "1"  # the Medplum server is plain http
    try:
        return create_app(settings)
    finally:
        if previous is None:
            os.environ.pop("ALLGUIDE_CDS_FHIR_ALLOW_HTTP", None)
        else:
            os.environ["ALLGUIDE_CDS_FHIR_ALLOW_HTTP"] = previous


@pytest.fixture(scope="session")
async def app(
    ehr: MockEhr, tenant_ehr: MockEhr, pack: ContentPack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    real = _real_app(ehr, tenant_ehr, tmp_path_factory.mktemp("app"))
    async with real.router.lifespan_context(real):  # migrate, import content, serve
        yield real


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as c:
        yield c

"""Discovery (`GET /cds-services`) and CORS for browser-based EHRs."""

from __future__ import annotations

import httpx
import pytest
from cds_helpers import BROWSER_ORIGIN, url

pytestmark = pytest.mark.anyio

EXPECTED = {
    "allguide-patient-view": "patient-view",
    "allguide-order-select": "order-select",
    "allguide-order-sign": "order-sign",
}


async def test_discovery_lists_three_services_with_required_fields(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(url())
    assert response.status_code == 200
    services = response.json()["services"]
    assert {s["id"]: s["hook"] for s in services} == EXPECTED
    for s in services:
        assert s["title"] and s["description"]
        assert "not for time-critical use" in s["usageRequirements"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert s["prefetch"]["observations"].startswith("Observation?patient={{context.patientId}}")
        assert "Condition?patient={{context.patientId}}" in s["prefetch"].values()
        assert "AllergyIntolerance?patient={{context.patientId}}" in s["prefetch"].values()
        # No null or empty values anywhere (the spec forbids them).
        assert all(v not in (None, "", [], {}) for v in s.values())


async def test_discovery_is_public_policy(client: httpx.AsyncClient) -> None:
    """Policy: discovery holds no patient data, so it needs no JWT (hook calls do)."""
    response = await client.get(url(), headers={"authorization": "Bearer not-a-jwt"})
    assert response.status_code == 200


async def test_cors_preflight_from_allowlisted_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        url("allguide-order-sign"),
        headers={
            "origin": BROWSER_ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == BROWSER_ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers.get("access-control-allow-credentials") is None


async def test_cors_never_echoes_an_unlisted_origin(client: httpx.AsyncClient) -> None:
    evil = "https://evil.example"
    preflight = await client.options(
        url("allguide-order-sign"),
        headers={"origin": evil, "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    get = await client.get(url(), headers={"origin": evil})
    assert get.status_code == 200
    assert "access-control-allow-origin" not in get.headers


async def test_cors_header_on_allowed_response(client: httpx.AsyncClient) -> None:
    response = await client.get(url(), headers={"origin": BROWSER_ORIGIN})
    assert response.headers["access-control-allow-origin"] == BROWSER_ORIGIN
    assert response.headers["access-control-allow-origin"] != "*"

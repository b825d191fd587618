"""Prefetch: templates, what the client sent, and the fallback to a REAL FHIR server.

The FHIR server is Medplum's FHIR router with its in-memory repository (started by the
`fhir` fixture, seeded with the example bundles); it requires the bearer token, so a
successful fallback proves the service sent `fhirAuthorization.access_token`.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cds_helpers import PUBLIC_URL, assert_valid_cards, bare_app, cds_config, prefetch_for, url
from medplum_server import FhirServer
from mock_ehr import MockEhr, bearer

from allguide.cdshooks.prefetch import expand_template
from allguide.knowledge.pack import ContentPack

pytestmark = pytest.mark.anyio

SERVICE = "allguide-patient-view"
CHILD = ("child-b-all-bundle", "child-1")


def requests_seen(fhir: FhirServer) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{fhir.root_url}/$test/requests").json()["requests"]
    return log


def set_faults(fhir: FhirServer, delay_ms: int = 0, status: int = 0) -> None:
    httpx.post(f"{fhir.root_url}/$test/faults", json={"delayMs": delay_ms, "status": status})


@pytest.fixture
def healthy_fhir(fhir: FhirServer) -> AsyncIterator[FhirServer]:
    set_faults(fhir)
    yield fhir
    set_faults(fhir)


async def post(
    client: httpx.AsyncClient, ehr: MockEhr, body: dict[str, Any], service: str = SERVICE
) -> httpx.Response:
    return await client.post(url(service), json=body, headers=bearer(ehr.token(url(service))))


def plan_summary(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    cards = assert_valid_cards(response.json())
    return str(cards[0]["summary"])


# ------------------------------------------------------------------------------- templates


def test_template_tokens() -> None:
    context = {"patientId": "p 1/x", "userId": "Practitioner/dr-7", "encounterId": "e9"}
    assert expand_template("Patient/{{context.patientId}}", context) == "Patient/p%201%2Fx"
    assert expand_template("Encounter/{{ context.encounterId }}", context) == "Encounter/e9"
    assert expand_template("Practitioner/{{userPractitionerId}}", context) == "Practitioner/dr-7"
    assert expand_template("Patient/{{userPatientId}}", context) is None  # user is no Patient
    assert expand_template("Condition?patient={{context.missing}}", context) is None
    assert expand_template("X?a={{context.draftOrders}}", {"draftOrders": {}}) is None


# --------------------------------------------------------------------------- sent vs fetched


async def test_full_prefetch_makes_no_fhir_call(
    client: httpx.AsyncClient, ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    before = len(requests_seen(healthy_fhir))
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        prefetch=prefetch_for(*CHILD),
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    assert (await post(client, ehr, body)).status_code == 200
    assert len(requests_seen(healthy_fhir)) == before


async def test_missing_prefetch_is_fetched_from_the_fhir_server_with_the_token(
    client: httpx.AsyncClient, ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    with_prefetch = await post(
        client, ehr, MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    )
    before = len(requests_seen(healthy_fhir))
    fetched = await post(
        client,
        ehr,
        MockEhr.hook_request(
            "patient-view",
            "child-1",
            fhir_server=healthy_fhir.base_url,
            access_token=healthy_fhir.token,
        ),
    )
    calls = requests_seen(healthy_fhir)[before:]
    assert len(calls) == 4  # patient, observations, conditions, allergies
    assert all(c["authorization"] == f"Bearer {healthy_fhir.token}" for c in calls)
    assert any("/Patient/child-1" in c["url"] for c in calls)
    assert any("Observation?patient=child-1" in c["url"] for c in calls)  # bare id, as sent
    # The same data by either path gives the same plan.
    assert plan_summary(fetched) == plan_summary(with_prefetch)


async def test_partial_null_and_operation_outcome_prefetch(
    client: httpx.AsyncClient, ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    prefetch = prefetch_for(*CHILD)
    del prefetch["conditions"]  # omitted: the client could not fetch it
    prefetch["allergies"] = None  # null: the client has no data (unknown, not fetched)
    prefetch["observations"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    before = len(requests_seen(healthy_fhir))
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        prefetch=prefetch,
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    response = await post(client, ehr, body)
    calls = [c["url"] for c in requests_seen(healthy_fhir)[before:]]
    assert len(calls) == 2
    assert any("/Condition?" in c for c in calls) and any("/Observation?" in c for c in calls)
    assert not any("AllergyIntolerance" in c for c in calls)
    full = await post(
        client, ehr, MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    )
    assert plan_summary(response) == plan_summary(full)


async def test_paginated_prefetch_is_followed_on_the_same_server(
    client: httpx.AsyncClient, ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    first_page = httpx.get(
        f"{healthy_fhir.base_url}/Observation?patient=child-1&_count=3",
        headers=bearer(healthy_fhir.token),
    ).json()
    assert any(link["relation"] == "next" for link in first_page["link"])
    prefetch = prefetch_for(*CHILD)
    prefetch["observations"] = first_page
    before = len(requests_seen(healthy_fhir))
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        prefetch=prefetch,
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    response = await post(client, ehr, body)
    assert len(requests_seen(healthy_fhir)) - before == 3  # pages 2-4 of 10 observations
    full = await post(
        client, ehr, MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    )
    assert plan_summary(response) == plan_summary(full)


async def test_resources_of_another_patient_are_dropped_and_reported(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    prefetch = prefetch_for(*CHILD)
    stranger = copy.deepcopy(prefetch["observations"]["entry"][0])
    stranger["resource"]["subject"] = {"reference": "Patient/someone-else"}
    stranger["resource"]["id"] = "foreign-1"
    prefetch["observations"]["entry"].append(stranger)
    response = await post(
        client, ehr, MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch)
    )
    cards = assert_valid_cards(response.json())
    problems = [c for c in cards if c["summary"].startswith("FHIR data problems")]
    assert problems and "another patient" in problems[0]["detail"]


# --------------------------------------------------------------------------------- 412


async def test_no_prefetch_and_no_fhir_server_is_412(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    response = await post(client, ehr, MockEhr.hook_request("patient-view", "child-1"))
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_wrong_or_expired_fhir_token_is_412(
    client: httpx.AsyncClient, ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    body = MockEhr.hook_request(
        "patient-view", "child-1", fhir_server=healthy_fhir.base_url, access_token="wrong"
    )
    assert (await post(client, ehr, body)).status_code == 412  # the FHIR server said 401
    before = len(requests_seen(healthy_fhir))
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    body["fhirAuthorization"]["expires_in"] = 0
    assert (await post(client, ehr, body)).status_code == 412
    assert len(requests_seen(healthy_fhir)) == before  # an expired token is not even tried


async def test_fhir_server_errors_and_timeouts_are_412_within_the_deadline(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    app = bare_app(cds_config(ehr, tenant_ehr, fhir_timeout_seconds=0.5), pack)
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        set_faults(healthy_fhir, status=503)
        assert (await post(client, ehr, copy.deepcopy(body))).status_code == 412
        set_faults(healthy_fhir, delay_ms=1500)
        response = await post(client, ehr, copy.deepcopy(body))
        assert response.status_code == 412
        assert response.elapsed.total_seconds() < 1.4


async def test_plain_http_or_unlisted_fhir_server_is_not_called(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr, healthy_fhir: FhirServer
) -> None:
    body = MockEhr.hook_request(
        "patient-view",
        "child-1",
        fhir_server=healthy_fhir.base_url,
        access_token=healthy_fhir.token,
    )
    before = len(requests_seen(healthy_fhir))
    for config in (
        cds_config(ehr, tenant_ehr, fhir_allow_http=False),
        cds_config(ehr, tenant_ehr, fhir_servers=("https://fhir.hospital.example/r4",)),
    ):
        transport = httpx.ASGITransport(app=bare_app(config, pack))
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            assert (await post(client, ehr, copy.deepcopy(body))).status_code == 412
    assert len(requests_seen(healthy_fhir)) == before


async def test_fhir_authorization_without_fhir_server_is_400(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = MockEhr.hook_request(
        "patient-view", "child-1", prefetch=prefetch_for(*CHILD), access_token="t"
    )
    assert "fhirServer" not in body
    response = await post(client, ehr, body)
    assert response.status_code == 400
    assert "cds-r-1" in response.json()["issue"][0]["diagnostics"]

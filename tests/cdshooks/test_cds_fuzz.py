"""Generated hook requests: whatever arrives, the answer is a valid response or a 4xx, never a
500 and never a schema-invalid 200."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cds_helpers import PUBLIC_URL, assert_valid_cards, bare_app, cds_config, prefetch_for, url
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mock_ehr import MockEhr, bearer

from allguide.knowledge.pack import ContentPack

SERVICE = "allguide-order-sign"


@pytest.fixture(scope="module")
def fuzz_client(pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr) -> TestClient:
    return TestClient(bare_app(cds_config(ehr, tenant_ehr), pack), base_url=PUBLIC_URL)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["hook", "hookInstance", "context", "prefetch", "fhirServer", "fhirAuthorization"]


def base_request() -> dict[str, Any]:
    order = {
        "resourceType": "MedicationRequest",
        "id": "mr-1",
        "status": "draft",
        "subject": {"reference": "Patient/child-1"},
        "medicationCodeableConcept": {"text": "vincristine"},
        "dosageInstruction": [
            {
                "route": {"text": "intrathecal"},
                "timing": {"event": ["2026-12-01"]},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg"}}],
            }
        ],
    }
    return MockEhr.hook_request(
        "order-sign",
        "child-1",
        prefetch=prefetch_for("child-b-all-bundle", "child-1"),
        draft_orders=[order],
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from([*FIELDS, "context.draftOrders", "order", "prefetch.patient"]),
    value=JSON,
)
def test_mutated_requests_never_crash(
    field: str, value: Any, fuzz_client: TestClient, ehr: MockEhr
) -> None:
    body = copy.deepcopy(base_request())
    if field == "context.draftOrders":
        body["context"]["draftOrders"] = value
    elif field == "order":
        body["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"] = value
    elif field == "prefetch.patient":
        body["prefetch"]["patient"] = value
    else:
        body[field] = value
    response = fuzz_client.post(url(SERVICE), json=body, headers=bearer(ehr.token(url(SERVICE))))
    assert response.status_code in (200, 400, 412), response.text
    if response.status_code == 200:
        assert_valid_cards(response.json())
    else:
        assert response.json()["resourceType"] == "OperationOutcome"

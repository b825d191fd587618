"""POST /api/v1/order-checks: order-set JSON and FHIR MedicationRequests."""

from __future__ import annotations

from typing import Any

from web_support import CHILD, Api


def test_vincristine_above_cap_is_critical(api: Api) -> None:
    response = api.client.post(
        "/api/v1/order-checks",
        json={
            "orders": {
                "phase": "induction",
                "orders": [
                    {
                        "drug": "vincristine",
                        "dose": {"amount": 2.5, "unit": "mg"},
                        "route": "iv",
                        "days": [1],
                    }
                ],
            },
            "patient": CHILD,
            "today": "2026-01-05",
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    codes = {f["code"]: f for f in result["findings"]}
    assert codes["DOSE_ABOVE_CAP"]["severity"] == "critical"
    assert codes["DOSE_ABOVE_CAP"]["suggestion"]["dose"] == {"amount": 2, "unit": "mg"}
    assert result["disclaimer"]
    assert response.json()["fhir_problems"] == []


def test_fhir_medication_requests_are_read(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": _medication_request(2.5)}],
    }
    response = api.client.post("/api/v1/order-checks", json={"orders": bundle})
    assert response.status_code == 200, response.text
    codes = [f["code"] for f in response.json()["result"]["findings"]]
    assert "DOSE_ABOVE_CAP" in codes
    as_list = api.client.post("/api/v1/order-checks", json={"orders": [_medication_request(1)]})
    assert as_list.status_code == 200, as_list.text
    assert "DOSE_ABOVE_CAP" not in [f["code"] for f in as_list.json()["result"]["findings"]]


def _medication_request(mg: float) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "vincristine"},
        "dosageInstruction": [
            {
                "route": {"text": "intravenous"},
                "timing": {"event": ["2026-01-05"]},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }


def test_bad_orders_are_422_with_paths(api: Api) -> None:
    response = api.client.post(
        "/api/v1/order-checks",
        json={
            "orders": {"phase": "inductoin", "orders": [{"drug": "vincristine", "route": "iv"}]},
            "patient": {"age_years": 500},
        },
    )
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert "patient.age_years" in fields
    assert "orders.phase" in fields
    assert any(f.startswith("orders.orders[0]") for f in fields)

    empty_fhir = api.client.post(
        "/api/v1/order-checks", json={"orders": {"resourceType": "Bundle", "entry": []}}
    )
    assert empty_fhir.status_code == 422
    assert empty_fhir.json()["error"]["fields"][0]["field"].startswith("orders")

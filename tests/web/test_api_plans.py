"""POST/GET /api/v1/plans on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import func, select
from web_support import CHILD, ROOT, Api

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import load_patient
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json
from allguide.store.models import StoredPlan


def _plan_count(api: Api) -> int:
    with api.app.state.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(StoredPlan)) or 0)


def test_create_then_permalink_is_byte_identical(api: Api) -> None:
    created = api.client.post("/api/v1/plans", json={"patient": CHILD, "start_date": "2026-01-05"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["permalink"] == f"/plans/{body['id']}"
    assert created.headers["location"] == f"/api/v1/plans/{body['id']}"
    assert body["plan"]["start_date"] == "2026-01-05"
    assert body["plan"]["disclaimer"]
    assert body["content_version"] == body["plan"]["content_version"]

    again = api.client.get(body["api_url"])
    assert again.status_code == 200
    assert again.content == created.content


def test_plan_matches_the_cli_for_the_same_input(api: Api, pack: ContentPack) -> None:
    """Numbers are read exactly (Decimal, not float): the API's plan equals the CLI's."""
    example = ROOT / "examples" / "child-standard-risk.yaml"
    patient = load_patient(example, pack)
    cli = json.loads(plan_to_json(build_plan(patient, pack)))
    data = patient.model_dump(mode="json", exclude_none=True)
    response = api.client.post("/api/v1/plans", json={"patient": data})
    assert response.status_code == 201
    api_plan = response.json()["plan"]
    assert api_plan["input_digest"] == cli["input_digest"]
    assert api_plan["phases"] == cli["phases"]


def test_decimal_input_is_kept_exact(api: Api) -> None:
    raw = json.dumps({"patient": {**CHILD, "weight_kg": 18.35}}).encode()
    response = api.client.post(
        "/api/v1/plans", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201
    with api.app.state.db.session() as session:
        row = session.get(StoredPlan, response.json()["id"])
        assert row is not None
        assert Decimal(json.loads(row.input_json)["weight_kg"]) == Decimal("18.35")


def test_bad_input_is_422_naming_field_value_expected_and_nothing_saved(api: Api) -> None:
    before = _plan_count(api)
    response = api.client.post(
        "/api/v1/plans",
        json={"patient": {**CHILD, "age_years": -3, "wbc": 5, "lineage": "Q"}},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    fields = {f["field"]: f for f in error["fields"]}
    assert fields["patient.age_years"]["value"] == -3
    assert "between" in fields["patient.age_years"]["expected"]
    assert "unknown field" in fields["patient.wbc"]["expected"]
    assert fields["patient.lineage"]["value"] == "Q"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert _plan_count(api) == before


def test_request_shape_errors_use_the_envelope(api: Api) -> None:
    missing = api.client.post("/api/v1/plans", json={"start_date": "2026-01-05"})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "patient"

    bad_date = api.client.post("/api/v1/plans", json={"patient": CHILD, "start_date": "soon"})
    assert bad_date.status_code == 422
    assert bad_date.json()["error"]["fields"][0] == {
        "field": "start_date",
        "value": "soon",
        "expected": bad_date.json()["error"]["fields"][0]["expected"],
    }

    not_json = api.client.post(
        "/api/v1/plans", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["error"]["fields"][0]["field"] == "body"

    form = api.client.post("/api/v1/plans", data={"patient": "x"})
    assert form.status_code == 415
    assert form.json()["error"]["code"] == "unsupported_media_type"

    not_object = api.client.post("/api/v1/plans", json=[1, 2])
    assert not_object.status_code == 422


def test_oversized_body_is_413(api: Api) -> None:
    big = b'{"patient": {"x": "' + b"a" * (api.settings.max_body_bytes + 10) + b'"}}'
    response = api.client.post(
        "/api/v1/plans", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_plan_is_404_envelope(api: Api) -> None:
    response = api.client.get("/api/v1/plans/doesnotexist123")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    too_short = api.client.get("/api/v1/plans/abc")
    assert too_short.status_code == 422
    assert too_short.json()["error"]["fields"][0]["field"] == "plan_id"

"""The three hooks end to end (mock EHR → service → cards), feedback, and bad requests."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import httpx
import pytest
from cds_helpers import (
    DATA,
    PUBLIC_URL,
    assert_valid_cards,
    bare_app,
    cds_config,
    prefetch_for,
    url,
)
from mock_ehr import MockEhr, bearer

from allguide.cdshooks.models import HookRequest
from allguide.cdshooks.store import MemoryStore
from allguide.knowledge.pack import ContentPack

pytestmark = pytest.mark.anyio

CHILD = ("child-b-all-bundle", "child-1")
ADULT = ("adult-ph-positive-bundle", "adult-1")
ORDERS: dict[str, Any] = json.loads((DATA / "draft-orders.json").read_text(encoding="utf-8"))
SPEC: dict[str, Any] = json.loads((DATA / "spec-examples.json").read_text(encoding="utf-8"))


async def hook(
    client: httpx.AsyncClient, ehr: MockEhr, service: str, body: dict[str, Any], alg: str = "ES384"
) -> httpx.Response:
    return await client.post(
        url(service), json=body, headers=bearer(ehr.token(url(service), alg=alg))
    )


async def cards_for(
    client: httpx.AsyncClient, ehr: MockEhr, service: str, body: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await hook(client, ehr, service, body)
    assert response.status_code == 200, response.text
    return assert_valid_cards(response.json())


def order_body(hook_name: str, *names: str, selections: list[str] | None = None) -> dict[str, Any]:
    return MockEhr.hook_request(
        hook_name,
        "child-1",
        prefetch=prefetch_for(*CHILD),
        draft_orders=[copy.deepcopy(ORDERS[n]) for n in names],
        selections=selections,
    )


# ----------------------------------------------------------------------- spec examples


def test_spec_example_requests_parse_as_golden_fixtures() -> None:
    for name, body in SPEC.items():
        if name.startswith("_"):
            continue
        request = HookRequest.model_validate(body)
        assert request.context["patientId"] == "1288992", name


async def test_spec_examples_are_answered(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    """The spec's own requests (its patient, its amoxicillin and diet orders): no 500, and
    no noise about drugs outside allguide's content."""
    patient = {"resourceType": "Patient", "id": "1288992", "birthDate": "2015-04-01"}
    empty = {"observations": None, "conditions": None, "allergies": None}
    for name, service in (
        ("patient-view", "allguide-patient-view"),
        ("order-select", "allguide-order-select"),
        ("order-sign", "allguide-order-sign"),
    ):
        body = copy.deepcopy(SPEC[name])
        body.pop("fhirServer", None)
        body.pop("fhirAuthorization", None)
        body["prefetch"] = {"patient": patient, **empty}
        response = await hook(client, ehr, service, body)
        assert response.status_code == 200, (name, response.text)
        cards = assert_valid_cards(response.json())
        if name == "patient-view":
            assert cards == []  # no ALL diagnosis: allguide has nothing to say
        elif name == "order-select":
            assert cards == []  # amoxicillin is not a drug allguide checks
        else:  # the spec's order-sign example has doseAndRate as an object: unreadable
            assert cards and cards[0]["indicator"] == "warning"
            assert "doseAndRate" in json.dumps(cards)


# ------------------------------------------------------------------------ patient-view


async def test_patient_view_card_summarises_the_plan(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    cards = await cards_for(client, ehr, "allguide-patient-view", body)
    plan = cards[0]
    assert plan["summary"].startswith("ALL plan:")
    assert "NCI" in plan["summary"] or "COG" in plan["summary"]
    assert "**Risk**" in plan["detail"] and "Inputs used" in plan["detail"]
    assert "draft (pending review)" in plan["detail"]  # content status is never hidden
    plain = plan["detail"].replace("\\", "")  # markdown escapes removed
    assert "wbc_x10e9_per_l = 12.4" in plain  # the value used and where it came from
    assert "Observation/child-b-all-bundle-wbc-" in plain
    link = plan["links"][0]
    assert link["url"].startswith(f"{PUBLIC_URL}/plans/")
    assert plan["source"]["label"].startswith("allguide")


async def test_patient_view_plan_link_opens_the_stored_plan(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    cards = await cards_for(client, ehr, "allguide-patient-view", body)
    target = cards[0]["links"][0]["url"].removeprefix(PUBLIC_URL)
    assert target != "/plans/new", "the deployed app stores the plan and links to it"
    page = await client.get(target)
    assert page.status_code == 200
    assert "ALL" in page.text


async def test_chart_opened_again_links_to_the_same_stored_plan(
    app: Any, client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    from sqlalchemy import func, select

    from allguide.store.models import StoredPlan

    body = MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch_for(*CHILD))
    links = [
        (await cards_for(client, ehr, "allguide-patient-view", body))[0]["links"][0]["url"]
        for _ in range(3)
    ]
    assert links[0] == links[1] == links[2]
    plan_id = links[0].rsplit("/", 1)[1]
    with app.state.db.session() as session:
        digest = session.get(StoredPlan, plan_id).input_digest
        count = session.scalar(
            select(func.count()).select_from(StoredPlan).where(StoredPlan.input_digest == digest)
        )
    assert count == 1


async def test_adult_ph_positive_mentions_tki(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    body = MockEhr.hook_request("patient-view", "adult-1", prefetch=prefetch_for(*ADULT))
    cards = await cards_for(client, ehr, "allguide-patient-view", body)
    assert "Ph+" in cards[0]["summary"]
    assert "**TKI**" in cards[0]["detail"]


async def test_malformed_fhir_gives_a_card_naming_the_problems(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = MockEhr.hook_request(
        "patient-view", "bad-1", prefetch=prefetch_for("malformed-bundle", "bad-1")
    )
    cards = await cards_for(client, ehr, "allguide-patient-view", body)
    problems = [c for c in cards if c["summary"].startswith("FHIR data problems")]
    assert problems, [c["summary"] for c in cards]
    card = problems[0]
    assert card["indicator"] in ("warning", "info")
    assert "Observation/" in card["detail"]  # names the resource
    assert "unit" in card["detail"].lower() or "conflict" in card["detail"].lower()


# ------------------------------------------------------------------------ order checks


async def test_order_sign_vincristine_intrathecal_is_critical_with_a_corrected_order(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = order_body(
        "order-sign", "vincristine_intrathecal", "methotrexate_intrathecal", "dexamethasone_high"
    )
    cards = await cards_for(client, ehr, "allguide-order-sign", body)
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert len(critical) == 1
    card = critical[0]
    assert "vincristine" in card["summary"] and "intravenous" in card["summary"].lower()
    assert card["source"]["url"] == f"{PUBLIC_URL}/statements/stmt.order_safety.vinca_route"
    assert card["source"]["topic"]["code"] == "VINCA_NOT_IV"
    assert card["overrideReasons"]
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    corrected = action["resource"]
    assert corrected["id"] == "mr-vcr-it"
    route = corrected["dosageInstruction"][0]["route"]["coding"][0]
    assert (route["system"], route["code"]) == ("http://snomed.info/sct", "47625008")
    assert "text" not in corrected["dosageInstruction"][0]  # stale free text removed
    # Other findings are there too, each with its own card.
    assert any(c["indicator"] == "warning" and "dexamethasone" in c["summary"] for c in cards)


async def test_order_sign_dose_suggestion_updates_dose_and_frequency(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = order_body(
        "order-sign", "vincristine_iv", "methotrexate_intrathecal", "dexamethasone_high"
    )
    cards = await cards_for(client, ehr, "allguide-order-sign", body)
    dex = [c for c in cards if "dexamethasone" in c["summary"]]
    assert dex and dex[0]["indicator"] == "warning"
    resource = dex[0]["suggestions"][0]["actions"][0]["resource"]
    dosage = resource["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] < 6
    assert dosage["timing"]["repeat"]["frequency"] == 2


async def test_clean_order_set_gives_no_cards(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    body = order_body("order-sign", "vincristine_iv", "methotrexate_intrathecal")
    assert await cards_for(client, ehr, "allguide-order-sign", body) == []


async def test_order_select_reports_only_on_the_selected_orders(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    names = ("vincristine_intrathecal", "methotrexate_intrathecal", "dexamethasone_high")
    only_dex = order_body("order-select", *names, selections=["MedicationRequest/mr-dex"])
    cards = await cards_for(client, ehr, "allguide-order-select", only_dex)
    assert cards and all("vincristine" not in c["summary"] for c in cards)
    only_vcr = order_body("order-select", *names, selections=["MedicationRequest/mr-vcr-it"])
    cards = await cards_for(client, ehr, "allguide-order-select", only_vcr)
    assert [c["indicator"] for c in cards] == ["critical"]


async def test_orders_for_another_patient_are_not_mixed_in(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = order_body("order-sign", "vincristine_iv", "other_patient_vincristine")
    cards = await cards_for(client, ehr, "allguide-order-sign", body)
    problems = [c for c in cards if "problems" in c["summary"]]
    assert problems and "Patient/someone-else" in problems[0]["detail"]


async def test_unreadable_chemotherapy_order_is_not_silently_passed(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    cards = await cards_for(
        client, ehr, "allguide-order-sign", order_body("order-sign", "no_dose_vincristine")
    )
    assert cards[0]["indicator"] == "warning"
    assert cards[0]["summary"].startswith("allguide could not check the orders")
    assert "no dose" in cards[0]["summary"] + cards[0].get("detail", "")


async def test_orders_outside_allguide_content_give_no_cards(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = order_body("order-sign", "amoxicillin")
    assert await cards_for(client, ehr, "allguide-order-sign", body) == []


# ----------------------------------------------------------------------------- feedback


async def test_feedback_is_stored_and_idempotent(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    body = order_body("order-sign", "vincristine_intrathecal", "methotrexate_intrathecal")
    cards = await cards_for(client, ehr, "allguide-order-sign", body)
    card = cards[0]
    service = "allguide-order-sign"
    accepted = MockEhr.feedback(card["uuid"], "accepted", suggestion=card["suggestions"][0]["uuid"])
    feedback_url = url(service, feedback=True)
    for expected_new in (1, 0):  # the same feedback again is recognised
        response = await client.post(
            feedback_url, json=accepted, headers=bearer(ehr.token(feedback_url))
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"received": 1, "new": expected_new}
    overridden = MockEhr.feedback(card["uuid"], comment="treating protocol differs")
    response = await client.post(
        feedback_url, json=overridden, headers=bearer(ehr.token(feedback_url))
    )
    assert response.json()["new"] == 1


async def test_feedback_validation_and_unknown_service(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    feedback_url = url("allguide-order-sign", feedback=True)
    card = str(uuid.uuid4())
    bad = [
        {
            "feedback": [
                {"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-11-22T10:00:00Z"}
            ]
        },  # cds-fb-2
        {
            "feedback": [
                {
                    "card": card,
                    "outcome": "overridden",
                    "overrideReason": {},
                    "outcomeTimestamp": "2026-11-22T10:00:00Z",
                }
            ]
        },  # cds-fb-3
        {
            "feedback": [
                {
                    "card": "not-a-uuid",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-11-22T10:00:00Z",
                }
            ]
        },
        {
            "feedback": [
                {"card": card, "outcome": "ignored", "outcomeTimestamp": "2026-11-22T10:00:00Z"}
            ]
        },
        {"feedback": []},
    ]
    for body in bad:
        response = await client.post(
            feedback_url, json=body, headers=bearer(ehr.token(feedback_url))
        )
        assert response.status_code == 400, body
    unknown = url("no-such-service", feedback=True)
    response = await client.post(
        unknown, json=MockEhr.feedback(card), headers=bearer(ehr.token(unknown))
    )
    assert response.status_code == 404
    response = await client.post(feedback_url, json=MockEhr.feedback(card))
    assert response.status_code == 401


# ------------------------------------------------------------------------- bad requests


async def test_bad_requests_are_refused_without_a_recommendation(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    service = "allguide-order-sign"
    good = order_body("order-sign", "vincristine_iv")

    async def raw(content: bytes, ctype: str = "application/json") -> int:
        response = await client.post(
            url(service),
            content=content,
            headers={"content-type": ctype, **bearer(ehr.token(url(service)))},
        )
        assert response.json()["resourceType"] == "OperationOutcome"
        return response.status_code

    assert await raw(b"{not json") == 400
    assert await raw(b"[1, 2]") == 400
    assert await raw(b'{"hook": "order-sign", "hook": "order-sign"}') == 400  # duplicate key
    assert await raw(b"[" * 100_000 + b"]" * 100_000) == 400  # nesting bomb
    assert await raw(json.dumps(good).encode(), "text/plain") == 415
    for mutate in (
        lambda b: b.pop("hookInstance"),
        lambda b: b.update(hookInstance="not-a-uuid"),
        lambda b: b.update(hook="patient-view"),  # does not match the service
        lambda b: b.pop("context"),
        lambda b: b["context"].update(draftOrders={"resourceType": "MedicationRequest"}),
        lambda b: b["context"].pop("patientId"),
    ):
        body = copy.deepcopy(good)
        mutate(body)
        response = await hook(client, ehr, service, body)
        assert response.status_code in (400, 412), (body, response.text)
    select = order_body("order-select", "vincristine_iv", selections=["MedicationRequest/nope"])
    assert (await hook(client, ehr, "allguide-order-select", select)).status_code == 400
    unknown = url("no-such-service")
    response = await client.post(unknown, json=good, headers=bearer(ehr.token(unknown)))
    assert response.status_code == 404


async def test_card_text_from_the_record_is_escaped(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    body = order_body("order-sign", "vincristine_intrathecal")
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["id"] = "x<script>alert(1)</script>[evil](javascript:alert(1))"
    cards = await cards_for(client, ehr, "allguide-order-sign", body)
    assert cards, "the injected text must reach a card for this test to mean anything"
    shown = " ".join(
        [c["summary"] for c in cards]
        + [c.get("detail", "") for c in cards]
        + [s["label"] for c in cards for s in c.get("suggestions", [])]
    )
    assert "x\\<script\\>" in shown  # the id is shown, escaped
    assert "<script>" not in shown
    assert not re.search(r"(?<!\\)\]\(javascript:", shown)  # no live markdown link


async def test_no_guidance_without_an_audit_record(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    class BrokenAudit(MemoryStore):
        def audit_evaluation(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("database is read-only")

    app = bare_app(cds_config(ehr, tenant_ehr), pack, store=BrokenAudit())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        body = order_body("order-sign", "vincristine_intrathecal")
        response = await hook(client, ehr, "allguide-order-sign", body)
    assert response.status_code == 503
    assert "cards" not in response.json()


@pytest.mark.parametrize("local", [True, False])
async def test_hooks_run_on_the_loop_only_when_writes_are_local(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr, local: bool
) -> None:
    import threading

    threads: list[threading.Thread] = []

    class Store(MemoryStore):
        def writes_locally(self, request: Any) -> bool:
            return local

        def audit_evaluation(self, *args: Any, **kwargs: Any) -> None:
            threads.append(threading.current_thread())
            super().audit_evaluation(*args, **kwargs)

    app = bare_app(cds_config(ehr, tenant_ehr), pack, store=Store())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        body = order_body("order-sign", "vincristine_intrathecal")
        response = await hook(client, ehr, "allguide-order-sign", body)
    assert response.status_code == 200 and response.json()["cards"]
    assert (threads == [threading.current_thread()]) is local

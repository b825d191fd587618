"""The plan as a FHIR R4 CarePlan bundle: structure, doses, citations, stability."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from allguide.fhir.plan_out import careplan_json, plan_to_careplan
from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import load_patient, parse_patient
from allguide.planning.engine import build_plan
from allguide.planning.plan import Plan

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2026, 1, 5)


@pytest.fixture(scope="module")
def child_plan(pack: ContentPack) -> Plan:
    patient = load_patient(ROOT / "examples" / "child-standard-risk.yaml", pack)
    return build_plan(patient, pack, start_date=START)


@pytest.fixture(scope="module")
def adult_plan(pack: ContentPack) -> Plan:
    patient = load_patient(ROOT / "examples" / "adult-ph-positive.json", pack)
    return build_plan(patient, pack)


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def walk_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for action in actions:
        out.append(action)
        out += walk_actions(action.get("action", []))
    return out


def dosed_lines(plan: Plan) -> list[Any]:
    return [
        (ph.phase, d)
        for ph in plan.phases
        for o in ph.regimen_options
        for d in o.drugs
        if d.dose is not None and d.dose.amount is not None
    ]


def test_bundle_structure(pack: ContentPack, child_plan: Plan) -> None:
    bundle = plan_to_careplan(child_plan, pack)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    [careplan] = resources(bundle, "CarePlan")
    [group] = resources(bundle, "RequestGroup")
    assert (careplan["status"], careplan["intent"]) == ("draft", "proposal")
    assert (group["status"], group["intent"]) == ("draft", "proposal")
    notes = " ".join(n["text"] for n in careplan["note"])
    assert child_plan.disclaimer in notes
    assert "Review status: pending review" in notes
    assert careplan["activity"][0]["reference"]["reference"] == f"urn:uuid:{group['id']}"
    assert [a["title"] for a in group["action"]][:2] == ["Induction", "CNS-directed therapy"]
    # every reference resolves inside the bundle
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    refs = [a["resource"]["reference"] for a in walk_actions(group["action"]) if "resource" in a]
    assert refs and set(refs) <= full_urls


def test_one_medication_request_per_dosed_line_with_the_plans_dose(
    pack: ContentPack, child_plan: Plan
) -> None:
    bundle = plan_to_careplan(child_plan, pack)
    requests = resources(bundle, "MedicationRequest")
    lines = dosed_lines(child_plan)
    assert len(requests) == len(lines) > 10
    for request, (phase, line) in zip(requests, lines, strict=True):
        assert (request["status"], request["intent"]) == ("draft", "proposal")
        dosage = request["dosageInstruction"][0]
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        expected = line.dose.amount
        if line.per == "day" and line.divided_doses > 1:
            expected = line.per_divided_dose
            assert dosage["timing"]["repeat"]["frequency"] == line.divided_doses
        assert Decimal(str(quantity["value"])) == expected
        assert quantity["system"] == "http://unitsofmeasure.org"
        assert quantity["code"] == {"mg": "mg", "IU": "[iU]", "g": "g", "mcg": "ug"}[line.dose.unit]
        assert dosage["route"]["coding"][0]["system"] == "http://snomed.info/sct"
        assert request["extension"][0]["valueCode"] == phase
        if phase == "induction":
            events = dosage["timing"]["event"]
            assert events[0] == (START + dt.timedelta(days=line.days[0] - 1)).isoformat()
            assert len(events) == len(line.days)
        else:
            assert "event" not in dosage["timing"]
            assert ", ".join(str(d) for d in line.days) in dosage["timing"]["code"]["text"]


def test_vincristine_route_and_cap(pack: ContentPack, child_plan: Plan) -> None:
    bundle = plan_to_careplan(child_plan, pack)
    vcr = next(
        r
        for r in resources(bundle, "MedicationRequest")
        if r["medicationCodeableConcept"]["text"] == "Vincristine"
    )
    dosage = vcr["dosageInstruction"][0]
    assert dosage["route"]["coding"][0]["code"] == "47625008"  # Intravenous route
    assert dosage["maxDosePerAdministration"]["value"] == 2
    assert "coding" not in vcr["medicationCodeableConcept"]  # no verified RxNorm code


def test_each_request_links_to_its_citations(pack: ContentPack, child_plan: Plan) -> None:
    bundle = plan_to_careplan(child_plan, pack)
    [group] = resources(bundle, "RequestGroup")
    by_ref = {
        a["resource"]["reference"]: a for a in walk_actions(group["action"]) if "resource" in a
    }
    for request in resources(bundle, "MedicationRequest"):
        action = by_ref[f"urn:uuid:{request['id']}"]
        docs = action["documentation"]
        assert docs and all(d["type"] == "citation" and d["citation"] for d in docs)
        assert any(d.get("url", "").startswith("https://") for d in docs)
        assert any(n["text"].startswith("Citations: [") for n in request["note"])


def test_cap_applied_is_noted(pack: ContentPack) -> None:
    # 1.5 mg/m² vincristine × 1.44 m² = 2.2 mg, above the 2 mg cap
    teen = parse_patient(
        {
            "age_years": 12,
            "weight_kg": 48,
            "height_cm": 156,
            "lineage": "B",
            "bcr_abl1": "negative",
        },
        pack,
    )
    plan = build_plan(teen, pack)
    capped = [d for _, d in dosed_lines(plan) if d.cap_applied]
    assert capped
    bundle = plan_to_careplan(plan, pack)
    notes = [n["text"] for r in resources(bundle, "MedicationRequest") for n in r["note"]]
    assert sum(n.startswith("Cap applied: computed") for n in notes) == len(capped)


def test_rxnorm_only_where_verified(pack: ContentPack, adult_plan: Plan) -> None:
    bundle = plan_to_careplan(adult_plan, pack)
    coded = {
        r["medicationCodeableConcept"]["text"]: r["medicationCodeableConcept"]["coding"][0]["code"]
        for r in resources(bundle, "MedicationRequest")
        if "coding" in r["medicationCodeableConcept"]
    }
    assert set(coded.values()) <= {"1597258", "1942950", "121191"}
    if "Rituximab" in coded:
        assert coded["Rituximab"] == "121191"


def test_byte_stable_and_ids_unique(pack: ContentPack, child_plan: Plan) -> None:
    first = careplan_json(plan_to_careplan(child_plan, pack))
    second = careplan_json(plan_to_careplan(child_plan, pack))
    assert first == second
    bundle = json.loads(first)
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    other = build_plan(
        load_patient(ROOT / "examples" / "child-standard-risk.yaml", pack),
        pack,
        start_date=START + dt.timedelta(days=1),
    )
    assert json.loads(careplan_json(plan_to_careplan(other, pack)))["id"] != bundle["id"]


def test_no_empty_elements(pack: ContentPack, adult_plan: Plan) -> None:
    def check(node: Any, path: str) -> None:
        assert node not in (None, "", [], {}), f"empty element at {path}"
        if isinstance(node, dict):
            for k, v in node.items():
                check(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                check(v, f"{path}[{i}]")

    check(plan_to_careplan(adult_plan, pack), "Bundle")


def test_subject_reference_is_used(pack: ContentPack, child_plan: Plan) -> None:
    bundle = plan_to_careplan(child_plan, pack, subject={"reference": "Patient/p1"})
    assert all(e["resource"]["subject"] == {"reference": "Patient/p1"} for e in bundle["entry"])

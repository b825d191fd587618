"""MedicationRequests → the order checks' OrderSet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from fhir_builders import RXNORM, SCT, bundle, medication_request

from allguide.fhir.intake import FhirProblem
from allguide.fhir.orders import orders_from_fhir
from allguide.fhir.plan_out import plan_to_careplan
from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import load_patient
from allguide.planning.engine import build_plan

ROOT = Path(__file__).resolve().parents[2]
IV = (SCT, "47625008")
IT = (SCT, "72607000")


def find(problems: list[FhirProblem], severity: str, needle: str) -> str:
    hits = [str(p) for p in problems if p.severity == severity and needle in str(p)]
    assert hits, f"no {severity} with {needle!r} in {[str(p) for p in problems]}"
    return hits[0]


def test_ehr_style_orders(pack: ContentPack) -> None:
    orders, problems = orders_from_fhir(
        bundle(
            medication_request(
                "vcr", "Oncovin", 1.5, "mg", IV, events=["2026-03-02", "2026-03-09"]
            ),
            medication_request(
                "mtx", "methotrexate", 12, "mg", "intrathecal", events=["2026-03-09"]
            ),
            medication_request(
                "dex",
                "dexamethasone",
                3,
                "mg",
                "by mouth",
                repeat={
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsPeriod": {"start": "2026-03-02", "end": "2026-03-05"},
                },
            ),
            medication_request(
                "peg", "PEG-asparaginase", 2500, "[iU]", "IM", events=["2026-03-05"]
            ),
        ),
        pack,
    )
    assert orders is not None, problems
    assert not [p for p in problems if p.severity != "info"]
    by_drug = {o.drug: o for o in orders.orders}
    assert by_drug["vincristine"].route == "iv" and by_drug["vincristine"].days == [1, 8]
    assert by_drug["vincristine"].dose.amount == Decimal("1.5")
    assert by_drug["methotrexate"].route == "intrathecal" and by_drug["methotrexate"].days == [8]
    assert by_drug["dexamethasone"].days == [1, 2, 3, 4]
    assert by_drug["dexamethasone"].per_day == 2
    assert by_drug["pegaspargase"].dose.unit == "IU" and by_drug["pegaspargase"].days == [4]
    assert orders.phase is None


def test_vincristine_intrathecal_is_read_as_ordered(pack: ContentPack) -> None:
    """The reader never 'corrects' an order: the checker must see the dangerous route."""
    orders, _ = orders_from_fhir(medication_request("v", "vincristine", 1, "mg", IT), pack)
    assert orders is not None and orders.orders[0].route == "intrathecal"


def test_start_date_and_weekly_repeat(pack: ContentPack) -> None:
    weekly = medication_request(
        "v",
        "vincristine",
        1.4,
        "mg",
        IV,
        repeat={
            "count": 4,
            "period": 1,
            "periodUnit": "wk",
            "boundsPeriod": {"start": "2026-03-08"},
        },
    )
    orders, _ = orders_from_fhir(weekly, pack, start=dt.date(2026, 3, 1), phase="induction")
    assert orders is not None
    assert orders.orders[0].days == [8, 15, 22, 29]
    assert orders.phase == "induction"


def test_no_timing_is_one_dose_with_a_warning(pack: ContentPack) -> None:
    orders, problems = orders_from_fhir(medication_request("v", "vincristine", 1, "mg", IV), pack)
    assert orders is not None and orders.orders[0].days == [1]
    find(problems, "warning", "MedicationRequest/v.dosageInstruction[0].timing: Vincristine")


def test_unreadable_orders_are_reported_and_not_checked(pack: ContentPack) -> None:
    volume = medication_request("vol", "vincristine", 2, "mL", IV)
    per_m2 = medication_request("m2", "vincristine", 1.5, "mg/m2", IV)
    no_route = medication_request("nr", "vincristine", 1, "mg", IV)
    del no_route["dosageInstruction"][0]["route"]
    odd_route = medication_request("or", "vincristine", 1, "mg", "nasal")
    ref = medication_request("ref", "x", 1, "mg", IV)
    del ref["medicationCodeableConcept"]
    ref["medicationReference"] = {"reference": "Medication/123"}
    unknown = medication_request("unk", "ondansetron", 4, "mg", IV)
    service = {"resourceType": "ServiceRequest", "id": "lp"}
    done = medication_request("done", "vincristine", 1, "mg", IV, status="completed")
    orders, problems = orders_from_fhir(
        bundle(volume, per_m2, no_route, odd_route, ref, unknown, service, done), pack
    )
    assert orders is None
    assert "not a volume" in find(problems, "error", "MedicationRequest/vol.dosageInstruction[0]")
    assert "per m²" in find(problems, "error", "MedicationRequest/m2")
    find(
        problems, "error", "MedicationRequest/nr.dosageInstruction[0].route: Vincristine: no route"
    )
    find(problems, "error", "route text 'nasal' not recognised")
    find(problems, "error", "medicationReference is not followed")
    find(problems, "warning", "text 'ondansetron' is not a drug in allguide's content pack")
    find(problems, "info", "ServiceRequest/lp")
    find(problems, "info", "status 'completed'")


def test_ambiguous_name_is_not_guessed(pack: ContentPack) -> None:
    orders, problems = orders_from_fhir(medication_request("p", "PRED", 40, "mg", "po"), pack)
    assert orders is None
    find(problems, "warning", "could mean prednisolone or prednisone")


def test_rxnorm_code_identifies_the_drug(pack: ContentPack) -> None:
    blina = medication_request(
        "b", {"coding": [{"system": RXNORM, "code": "1597258"}]}, 28, "ug", IV
    )
    orders, _ = orders_from_fhir(blina, pack)
    assert orders is not None
    assert orders.orders[0].drug == "blinatumomab" and orders.orders[0].dose.unit == "mcg"


def test_plan_output_reads_back_as_the_same_orders(pack: ContentPack) -> None:
    patient = load_patient(ROOT / "examples" / "child-standard-risk.yaml", pack)
    plan = build_plan(patient, pack, start_date=dt.date(2026, 1, 5))
    fhir_bundle = plan_to_careplan(plan, pack)
    option = next(ph for ph in plan.phases if ph.phase == "induction").regimen_options[0]
    requests: list[dict[str, Any]] = [
        e["resource"]
        for e in fhir_bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
        and e["resource"]["extension"][1]["valueString"] == option.regimen_id
    ]
    orders, problems = orders_from_fhir(requests, pack)
    assert orders is not None, problems
    assert orders.phase == "induction" and orders.regimen == option.regimen_id
    dosed = [d for d in option.drugs if d.dose is not None and d.dose.amount is not None]
    assert len(orders.orders) == len(dosed)
    for order, line in zip(orders.orders, dosed, strict=True):
        assert (order.drug, order.route.value, order.days) == (line.drug, line.route, line.days)
        per_admin = line.per_divided_dose if line.divided_doses > 1 else line.dose.amount  # type: ignore[union-attr]
        assert order.dose.amount == per_admin
        assert order.per_day == (line.divided_doses if line.per == "day" else 1)

"""Tiny builders for FHIR R4 test resources (plain dicts, as an EHR would send them)."""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PID = "p1"


def patient(gender: str = "female", birth: str = "2020-06-01", pid: str = PID) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def condition(
    *codings: tuple[str, str], onset: str | None = "2026-01-10", cid: str = "dx", **extra: Any
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": s, "code": c} for s, c in codings]},
    }
    if onset:
        res["onsetDateTime"] = onset
    res.update(extra)
    return res


def b_all(onset: str = "2026-01-10") -> dict[str, Any]:
    return condition((SCT, "277571004"), onset=onset)


def quantity(
    oid: str,
    code: str,
    value: Any,
    unit: str | None,
    when: str | None = "2026-01-10",
    system: str = LOINC,
    **extra: Any,
) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit is not None:
        q.update({"unit": unit, "system": UCUM, "code": unit})
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{PID}"},
        "valueQuantity": q,
    }
    if when:
        res["effectiveDateTime"] = when
    res.update(extra)
    return res


def text_result(oid: str, name: str, value: str, when: str = "2026-01-10") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"text": name},
        "subject": {"reference": f"Patient/{PID}"},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"text": value},
    }


def allergy(aid: str, text: str, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": aid,
        "patient": {"reference": f"Patient/{PID}"},
        "code": {"text": text},
    }
    res.update(extra)
    return res


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def base(*more: dict[str, Any]) -> dict[str, Any]:
    """A minimal valid child with B-ALL, plus `more` resources."""
    return bundle(patient(), b_all(), *more)


def medication_request(
    rid: str,
    drug: str | dict[str, Any],
    amount: Any,
    unit: str,
    route: tuple[str, str] | str,
    *,
    events: list[str] | None = None,
    repeat: dict[str, Any] | None = None,
    status: str = "draft",
) -> dict[str, Any]:
    concept = drug if isinstance(drug, dict) else {"text": drug}
    route_cc: dict[str, Any] = (
        {"coding": [{"system": route[0], "code": route[1]}]}
        if isinstance(route, tuple)
        else {"text": route}
    )
    timing: dict[str, Any] = {}
    if events:
        timing["event"] = events
    if repeat:
        timing["repeat"] = repeat
    dosage: dict[str, Any] = {
        "route": route_cc,
        "doseAndRate": [
            {"doseQuantity": {"value": amount, "unit": unit, "system": UCUM, "code": unit}}
        ],
    }
    if timing:
        dosage["timing"] = timing
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "proposal",
        "subject": {"reference": f"Patient/{PID}"},
        "medicationCodeableConcept": concept,
        "dosageInstruction": [dosage],
    }

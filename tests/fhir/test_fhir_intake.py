"""FHIR R4 intake: each resource type, unit conversions, conflicts and malformed input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir_builders import (
    ICD10CM,
    ICDO3,
    LOINC,
    RXNORM,
    SCT,
    allergy,
    b_all,
    base,
    bundle,
    condition,
    medication_request,
    patient,
    quantity,
    text_result,
)

from allguide.fhir.intake import FhirIntake, patient_from_fhir
from allguide.knowledge.pack import ContentPack

TODAY = dt.date(2026, 6, 1)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"


def intake(pack: ContentPack, *resources: dict[str, Any], raw: Any = None) -> FhirIntake:
    return patient_from_fhir(raw if raw is not None else base(*resources), pack, today=TODAY)


def problems(result: FhirIntake, severity: str) -> list[str]:
    return [str(p) for p in result.problems if p.severity == severity]


def one(result: FhirIntake, severity: str, needle: str) -> str:
    hits = [p for p in problems(result, severity) if needle in p]
    assert hits, f"no {severity} containing {needle!r} in {problems(result, severity)}"
    return hits[0]


# --------------------------------------------------------------------------- Patient, Condition


def test_patient_and_condition_give_age_sex_lineage_and_diagnosis_date(pack: ContentPack) -> None:
    result = intake(pack)
    assert result.ok, result.problems
    assert result.patient is not None
    assert result.patient.sex == "female"
    assert result.patient.lineage == "B"
    assert result.patient.birth_date == dt.date(2020, 6, 1)
    assert result.patient.diagnosis_date == dt.date(2026, 1, 10)
    assert result.patient.age == Decimal("5.61")
    sources = {u.field: (u.resource, u.path) for u in result.used}
    assert sources["lineage"] == ("Condition/dx", "code.coding[0]")
    assert sources["diagnosis_date"] == ("Condition/dx", "onsetDateTime")


def test_age_at_today_when_no_diagnosis_date(pack: ContentPack) -> None:
    raw = bundle(patient(), condition((SCT, "91857003"), onset=None))
    result = intake(pack, raw=raw)
    assert result.patient is not None
    assert result.patient.age == Decimal("6")  # 2020-06-01 → 2026-06-01
    assert result.patient.diagnosis_date is None
    one(result, "warning", "no diagnosis date found")


@pytest.mark.parametrize(
    ("coding", "lineage", "extra"),
    [
        ((ICD10CM, "C91.00"), None, {}),
        ((ICDO3, "9837/3"), "T", {}),
        ((ICDO3, "9837"), "T", {}),  # behaviour code omitted
        ((ICDO3, "9812/3"), "B", {"bcr_abl1": "positive"}),
        ((ICDO3, "9814/3"), "B", {"genetics": ["ETV6::RUNX1"]}),
    ],
)
def test_condition_codes(
    pack: ContentPack, coding: tuple[str, str], lineage: str | None, extra: dict[str, Any]
) -> None:
    result = intake(pack, raw=bundle(patient(), condition(coding)))
    assert result.patient is not None, result.problems
    assert result.patient.lineage == lineage
    for field, value in extra.items():
        assert getattr(result.patient, field) == value


def test_relapse_code_is_used_with_a_warning(pack: ContentPack) -> None:
    result = intake(pack, raw=bundle(patient(), condition((ICD10CM, "C91.02"))))
    assert result.patient is not None
    one(result, "warning", "relapse")


def test_no_all_condition_is_a_warning_and_refuted_condition_is_not_used(
    pack: ContentPack,
) -> None:
    refuted = condition(
        (SCT, "277571004"),
        verificationStatus={"coding": [{"code": "refuted"}]},
    )
    result = intake(pack, raw=bundle(patient(), refuted))
    assert result.patient is not None and result.patient.lineage is None
    one(result, "info", "'refuted': not used")
    one(result, "warning", "no Condition coding acute lymphoblastic leukemia")


def test_conflicting_lineage_is_an_error_naming_both(pack: ContentPack) -> None:
    result = intake(pack, condition((ICDO3, "9837/3"), cid="dx2"))
    assert result.patient is not None and result.patient.lineage is None
    message = one(result, "error", "conflicting lineage")
    assert "Condition/dx" in message and "Condition/dx2" in message
    assert "B (" in message and "T (" in message


def test_missing_or_partial_birth_date_is_an_error(pack: ContentPack) -> None:
    result = intake(pack, raw=bundle(patient(birth="2020"), b_all()))
    assert result.patient is None
    one(result, "error", "Patient/p1.birthDate: '2020' is only a year or month")
    assert len(result.errors) == 1  # the core's "age is required" is not repeated


def test_two_patients_with_different_sexes_conflict(pack: ContentPack) -> None:
    raw = bundle(patient(), patient(gender="male", pid="p2"), b_all())
    result = intake(pack, raw=raw)
    message = one(result, "error", "conflicting sex")
    assert "female (Patient/p1.gender)" in message and "male (Patient/p2.gender)" in message
    assert result.data.get("sex") is None


# --------------------------------------------------------------------------- Observation numbers


@pytest.mark.parametrize(
    ("code", "value", "unit", "field", "expected"),
    [
        ("6690-2", 12.4, "10*3/uL", "wbc_x10e9_per_l", "12.4"),
        ("6690-2", 12.4, "10*9/L", "wbc_x10e9_per_l", "12.4"),
        ("26464-8", 64000, "/uL", "wbc_x10e9_per_l", "64"),
        ("29463-7", 36.376, "[lb_av]", "weight_kg", "16.5"),
        ("29463-7", 16500, "g", "weight_kg", "16.5"),
        ("8302-2", 1.04, "m", "height_cm", "104"),
        ("8302-2", 40.94, "[in_i]", "height_cm", "104"),
        ("10230-1", 58, "%", "lvef_percent", "58"),
        ("2164-2", 1.6, "mL/s", "creatinine_clearance_ml_min", "96"),
        ("1975-2", 10.3, "umol/L", "total_bilirubin_mg_dl", "0.6"),
        ("1975-2", 1.2, "mg/dL", "total_bilirubin_mg_dl", "1.2"),
        ("89247-1", 2, None, "ecog", "2"),
    ],
)
def test_unit_conversions(
    pack: ContentPack, code: str, value: Any, unit: str | None, field: str, expected: str
) -> None:
    result = intake(pack, quantity("o1", code, value, unit))
    assert result.ok, result.problems
    assert result.data[field] == Decimal(expected)
    used = next(u for u in result.used if u.field == field)
    assert used.resource == "Observation/o1" and used.path == "valueQuantity"
    if unit not in (None, "10*3/uL", "10*9/L", "%", "mg/dL"):
        assert unit in (used.note or ""), "the original value and unit are shown"


def test_ecog_as_value_integer(pack: ContentPack) -> None:
    obs = quantity("e1", "89247-1", 1, None)
    del obs["valueQuantity"]
    obs["valueInteger"] = 1
    result = intake(pack, obs)
    assert result.patient is not None and result.patient.ecog == 1


@pytest.mark.parametrize(
    ("code", "value", "unit", "label"),
    [
        ("6690-2", 45, "%", "white-cell count"),
        ("29463-7", 25000, "mg", "body weight"),
        ("8302-2", 104, "kg", "body height"),
        ("2164-2", 90, "mL/min/{1.73_m2}", "creatinine clearance"),
        ("10230-1", 0.6, None, "ejection fraction"),
    ],
)
def test_wrong_units_are_errors_naming_resource_path_value_and_units(
    pack: ContentPack, code: str, value: Any, unit: str | None, label: str
) -> None:
    result = intake(pack, quantity("bad", code, value, unit))
    message = one(result, "error", "Observation/bad.valueQuantity")
    assert label in message
    assert f"{value}" in message
    assert "expected one of" in message
    assert not any(u.resource == "Observation/bad" for u in result.used)


def test_value_string_for_a_number_is_an_error(pack: ContentPack) -> None:
    obs = quantity("h", "8302-2", 1, "cm")
    del obs["valueQuantity"]
    obs["valueString"] = "104 cm"
    result = intake(pack, obs)
    message = one(result, "error", "Observation/h.value[x]")
    assert "valueString '104 cm'" in message and "'cm'" in message


def test_unreadable_value_names_the_path(pack: ContentPack) -> None:
    result = intake(pack, quantity("w", "29463-7", "sixteen", "kg"))
    message = one(result, "error", "Observation/w.valueQuantity.value")
    assert "'sixteen'" in message


def test_core_plausibility_problems_name_the_source_resource(pack: ContentPack) -> None:
    result = intake(pack, quantity("w", "29463-7", 900, "kg"))
    assert result.patient is None
    message = one(result, "error", "Observation/w.valueQuantity")
    assert "weight_kg" in message and "kilograms" in message


def test_comparator_and_missing_value_are_not_used(pack: ContentPack) -> None:
    low = quantity("w1", "6690-2", 0.5, "10*3/uL")
    low["valueQuantity"]["comparator"] = "<"
    absent = quantity("w2", "6690-2", None, None)
    del absent["valueQuantity"]
    absent["dataAbsentReason"] = {"text": "sample clotted"}
    result = intake(pack, low, absent)
    assert "wbc_x10e9_per_l" not in result.data
    one(result, "warning", "'<0.5'")
    one(result, "info", "sample clotted")


# --------------------------------------------------------------------------- repeated values


def test_latest_clearly_later_value_wins(pack: ContentPack) -> None:
    result = intake(
        pack,
        quantity("w1", "29463-7", 16, "kg", when="2026-01-02"),
        quantity("w2", "29463-7", 17, "kg", when="2026-01-09"),
    )
    assert result.ok
    assert result.data["weight_kg"] == Decimal(17)
    one(result, "info", "Observation/w1.valueQuantity: body weight 16 (2026-01-02) not used")


def test_same_day_different_values_conflict(pack: ContentPack) -> None:
    result = intake(
        pack,
        quantity("w1", "29463-7", 16, "kg", when="2026-01-09"),
        quantity("w2", "29463-7", 17, "kg", when="2026-01-09T10:00:00Z"),
    )
    assert "weight_kg" not in result.data
    message = one(result, "error", "conflicting body weight")
    assert "16 (Observation/w1" in message and "17 (Observation/w2" in message


def test_same_day_timed_values_latest_wins(pack: ContentPack) -> None:
    result = intake(
        pack,
        quantity("w1", "29463-7", 16, "kg", when="2026-01-09T08:00:00Z"),
        quantity("w2", "29463-7", 17, "kg", when="2026-01-09T10:00:00+01:00"),
    )
    assert result.data["weight_kg"] == Decimal(17)


def test_equal_values_in_different_units_are_not_a_conflict(pack: ContentPack) -> None:
    result = intake(
        pack,
        quantity("a", "6690-2", 12.4, "10*3/uL"),
        quantity("b", "26464-8", 12400, "/uL"),
    )
    assert result.ok and result.data["wbc_x10e9_per_l"] == Decimal("12.4")


def test_presenting_wbc_is_the_one_at_diagnosis_not_the_latest(pack: ContentPack) -> None:
    result = intake(
        pack,
        quantity("old", "6690-2", 7.0, "10*3/uL", when="2025-03-01"),
        quantity("dx", "6690-2", 61.0, "10*3/uL", when="2026-01-09"),
        quantity("later", "6690-2", 2.1, "10*3/uL", when="2026-01-20"),
    )
    assert result.data["wbc_x10e9_per_l"] == Decimal(61)
    one(result, "info", "Observation/later")
    one(result, "info", "Observation/old")


def test_future_and_entered_in_error_observations_are_not_used(pack: ContentPack) -> None:
    future = quantity("f", "29463-7", 20, "kg", when="2027-01-01")
    wrong = quantity("e", "29463-7", 21, "kg", status="entered-in-error")
    result = intake(pack, future, wrong)
    assert "weight_kg" not in result.data
    one(result, "warning", "Observation/f.effectiveDateTime: dated 2027-01-01")
    one(result, "info", "Observation/e.status: status 'entered-in-error'")


def test_resource_for_another_patient_is_refused(pack: ContentPack) -> None:
    obs = quantity("w", "29463-7", 20, "kg", subject={"reference": "Patient/someone-else"})
    result = intake(pack, obs)
    assert "weight_kg" not in result.data
    one(result, "error", "Observation/w.subject.reference: refers to Patient/someone-else")


def test_reference_by_full_url_or_absolute_url_is_the_same_patient(pack: ContentPack) -> None:
    raw = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:abc", "resource": patient()},
            {"resource": b_all()},
            {
                "resource": quantity(
                    "w1", "29463-7", 20, "kg", subject={"reference": "urn:uuid:abc"}
                )
            },
            {
                "resource": quantity(
                    "h1", "8302-2", 110, "cm", subject={"reference": "https://ehr/fhir/Patient/p1"}
                )
            },
        ],
    }
    result = intake(pack, raw=raw)
    assert result.ok, result.problems
    assert result.data["weight_kg"] == 20 and result.data["height_cm"] == 110


# ------------------------------------------------------------------------- missing codes, unmapped


def test_missing_codes_are_warnings_and_unmapped_codes_info(pack: ContentPack) -> None:
    no_code = quantity("a", "x", 1, "g/dL")
    del no_code["code"]
    text_only = quantity("b", "x", 7.1, "g/dL")
    text_only["code"] = {"text": "Hemoglobin"}
    no_system = quantity("c", "8302-2", 120, "cm")
    no_system["code"] = {"coding": [{"code": "8302-2"}]}
    unmapped = quantity("d", "777-3", 45, "10*3/uL")
    unmapped["code"]["coding"][0]["display"] = "Platelets"
    result = intake(pack, no_code, text_only, no_system, unmapped)
    one(result, "warning", "Observation/a.code: has no code")
    one(result, "warning", "only text 'Hemoglobin'")
    one(result, "warning", "code 8302-2 has no system")
    one(result, "info", "Observation/d.code: not used: LOINC 777-3 (Platelets)")
    assert result.patient is not None  # the rest is still read


def test_other_resource_types_are_reported_not_dropped(pack: ContentPack) -> None:
    result = intake(pack, {"resourceType": "Procedure", "id": "lp"})
    one(result, "info", "Procedure/lp: not used")


def test_not_a_bundle_is_reported(pack: ContentPack) -> None:
    result = patient_from_fhir([1, {"no": "type"}], pack, today=TODAY)
    assert result.patient is None
    one(result, "error", "expected a FHIR resource")
    one(result, "error", "has no resourceType")


# --------------------------------------------------------------------------- genetics


def variant(oid: str, gene: str, present: bool) -> dict[str, Any]:
    value = (
        {"coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}]}
        if present
        else {"text": "Absent"}
    )
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "69548-6"}]},
        "subject": {"reference": "Patient/p1"},
        "valueCodeableConcept": value,
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                "valueCodeableConcept": {"text": gene},
            }
        ],
    }


def test_genetic_variant_maps_to_the_vocabulary(pack: ContentPack) -> None:
    result = intake(pack, variant("v1", "TEL-AML1", True), variant("v2", "iAMP21", False))
    assert result.patient is not None
    assert result.patient.genetics == ["ETV6::RUNX1"]
    one(result, "info", "complete list of abnormalities found: ETV6::RUNX1")


def test_only_negative_genetics_leave_genetics_unknown(pack: ContentPack) -> None:
    result = intake(pack, variant("v1", "KMT2A rearrangement", False))
    assert result.patient is not None and result.patient.genetics is None


def test_unknown_variant_is_reported(pack: ContentPack) -> None:
    result = intake(pack, variant("v1", "FLT3-ITD", True))
    one(result, "info", "FLT3-ITD) is not in the genetics vocabulary")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BCR-ABL1 fusion transcript", "Positive", "positive"),
        ("BCR::ABL1 p190 by PCR", "Not detected", "negative"),
        ("Philadelphia chromosome", "Absent", "negative"),
    ],
)
def test_bcr_abl1_by_name(pack: ContentPack, name: str, value: str, expected: str) -> None:
    result = intake(pack, text_result("b", name, value))
    assert result.patient is not None and result.patient.bcr_abl1 == expected


def test_bcr_abl1_like_is_not_bcr_abl1(pack: ContentPack) -> None:
    result = intake(pack, text_result("b", "BCR-ABL1-like", "Positive"))
    assert result.patient is not None
    assert result.patient.bcr_abl1 is None and result.patient.genetics == ["Ph_like"]


def test_contradictory_bcr_abl1_same_day_is_an_error(pack: ContentPack) -> None:
    result = intake(
        pack, text_result("p", "BCR-ABL1", "Positive"), text_result("n", "BCR-ABL1", "Negative")
    )
    assert "bcr_abl1" not in result.data
    message = one(result, "error", "conflicting bcr_abl1")
    assert "Observation/p" in message and "Observation/n" in message


def test_negative_after_positive_stays_positive_with_a_warning(pack: ContentPack) -> None:
    result = intake(
        pack,
        text_result("p", "BCR-ABL1", "Positive", when="2026-01-10"),
        text_result("n", "BCR-ABL1", "Negative", when="2026-04-01"),
    )
    assert result.data["bcr_abl1"] == "positive"
    one(result, "warning", "read as a later response")


def test_unclear_result_value_is_a_warning(pack: ContentPack) -> None:
    result = intake(pack, text_result("b", "BCR-ABL1", "see report"))
    assert "bcr_abl1" not in result.data
    one(result, "warning", "not understood")


def test_karyotype_gives_modal_number_and_translocations(pack: ContentPack) -> None:
    obs = text_result("k", "Karyotype", "")
    del obs["valueCodeableConcept"]
    obs["valueString"] = "46,XY,t(9;22)(q34;q11.2)[20]"
    result = intake(pack, obs)
    assert result.patient is not None
    assert result.patient.modal_chromosome_number == 46
    assert result.patient.bcr_abl1 == "positive"


def test_karyotype_with_two_clones_gives_no_modal_number(pack: ContentPack) -> None:
    obs = text_result("k", "Karyotype", "")
    del obs["valueCodeableConcept"]
    obs["valueString"] = "46,XX[5]/55,XX,+4,+10,t(12;21)(p13;q22)[15]"
    result = intake(pack, obs)
    assert result.patient is not None
    assert result.patient.modal_chromosome_number is None
    assert result.patient.genetics == ["ETV6::RUNX1"]
    one(result, "info", "more than one clone")


# --------------------------------------------------------------------------- text matches


def test_pharmacogenetics_and_g6pd_by_text(pack: ContentPack) -> None:
    result = intake(
        pack,
        text_result("t", "TPMT phenotype", "Intermediate metabolizer"),
        text_result("n", "NUDT15 phenotype", "Poor metabolizer"),
        text_result("g", "Glucose-6-phosphate dehydrogenase screen", "Deficient"),
    )
    assert result.patient is not None
    assert result.patient.tpmt == "intermediate" and result.patient.nudt15 == "poor"
    assert result.patient.g6pd_deficiency is True
    assert all("matched by text" in (u.note or "") for u in result.used if u.field == "tpmt")


def test_uninterpretable_pharmacogenetics_are_warnings(pack: ContentPack) -> None:
    g6pd = quantity("g", "x", 12, "U/g{Hb}")
    g6pd["code"] = {"text": "G6PD activity"}
    result = intake(pack, text_result("t", "TPMT genotype", "*1/*3A"), g6pd)
    assert "tpmt" not in result.data and "g6pd_deficiency" not in result.data
    one(result, "warning", "not a metaboliser phenotype")
    one(result, "warning", "numeric activity needs a laboratory cut-off")


def test_mrd_needs_percent_and_a_time_point(pack: ContentPack) -> None:
    url = "https://allguide.example.org/fhir/StructureDefinition/mrd-timepoint"
    good = quantity("m1", "x", 0.02, "%", method={"text": "flow cytometry"})
    good["code"] = {"text": "MRD bone marrow"}
    good["extension"] = [{"url": url, "valueCode": "end_of_induction"}]
    no_tp = quantity("m2", "x", 0.5, "%")
    no_tp["code"] = {"text": "Minimal residual disease"}
    result = intake(pack, good, no_tp)
    assert result.patient is not None
    assert result.patient.mrd_at("end_of_induction") == Decimal("0.02")  # type: ignore[arg-type]
    assert result.data["mrd"][0]["method"] == "flow"
    one(result, "warning", "MRD 0.5% has no time point")


def test_down_syndrome_condition_by_text(pack: ContentPack) -> None:
    ds = {
        "resourceType": "Condition",
        "id": "ds",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Down syndrome"},
    }
    result = intake(pack, ds)
    assert result.patient is not None and result.patient.down_syndrome is True


# --------------------------------------------------------------------------- allergies, medicines


def test_pegaspargase_allergy_sets_both_asparaginase_fields(pack: ContentPack) -> None:
    result = intake(pack, allergy("a1", "Oncaspar (pegaspargase)"))
    assert result.patient is not None
    assert result.patient.asparaginase_hypersensitivity is True
    assert result.patient.asparaginase_reactions == ["pegaspargase"]


def test_erwinia_allergy_is_listed_but_is_not_e_coli_hypersensitivity(pack: ContentPack) -> None:
    result = intake(pack, allergy("a1", "Rylaze"))
    assert result.patient is not None
    assert result.patient.asparaginase_hypersensitivity is None
    assert result.patient.asparaginase_reactions == ["asparaginase erwinia (recombinant)"]


def test_other_allergies_are_reported_and_refuted_ones_ignored(pack: ContentPack) -> None:
    refuted = allergy("a2", "pegaspargase", verificationStatus={"coding": [{"code": "refuted"}]})
    result = intake(pack, allergy("a1", "Penicillin"), allergy("a3", "co-trimoxazole"), refuted)
    assert result.patient is not None
    assert result.patient.asparaginase_hypersensitivity is None
    one(result, "info", "AllergyIntolerance/a1.code: not used: text 'Penicillin'")
    one(result, "info", "allergy to Co-trimoxazole")
    one(result, "info", "AllergyIntolerance/a2.verificationStatus")


def test_active_medicines_become_current_medications(pack: ContentPack) -> None:
    active = medication_request(
        "m1", "Voriconazole 200 mg tablet", 200, "mg", "po", status="active"
    )
    active["medicationCodeableConcept"] = {"text": "voriconazole"}
    statement = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "omeprazole"},
    }
    draft = medication_request("m2", "vincristine", 1, "mg", "iv")
    coded = medication_request(
        "m3",
        {"coding": [{"system": RXNORM, "code": "1597258"}]},
        28,
        "ug",
        "iv",
        status="active",
    )
    result = intake(pack, active, statement, draft, coded)
    assert result.patient is not None
    assert result.patient.current_medications == ["blinatumomab", "omeprazole", "voriconazole"]
    one(result, "info", "MedicationRequest/m2.status: draft order")


def test_ambiguous_medicine_name_is_kept_by_name_with_the_reason(pack: ContentPack) -> None:
    med = medication_request("m1", "PRED", 40, "mg", "po", status="active")
    result = intake(pack, med)
    assert result.data["current_medications"] == ["PRED"]
    used = next(u for u in result.used if u.field == "current_medications")
    assert "prednisolone or prednisone" in (used.note or "")


# --------------------------------------------------------------------------- example bundles


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def test_child_example_maps_cleanly(pack: ContentPack) -> None:
    result = patient_from_fhir(load("child-b-all-bundle.json"), pack, today=TODAY)
    assert result.ok, result.problems
    assert not problems(result, "warning")
    assert result.data["wbc_x10e9_per_l"] == Decimal("12.4")  # presenting, not the day-8 count
    one(result, "info", "Observation/plt-1.code: not used")


def test_malformed_example_problems_are_named(pack: ContentPack) -> None:
    result = patient_from_fhir(load("malformed-bundle.json"), pack, today=TODAY)
    assert not result.ok
    expected = {
        "error": [
            "Observation/wbc-percent.valueQuantity.code",  # WBC in %
            "Observation/weight-mg.valueQuantity.code",  # weight in mg
            "Observation/height-text.value[x]",  # text for a number
            "Observation/other-patient.subject.reference",  # another patient
            "conflicting sex",
            "conflicting white-cell count",
            "conflicting bcr_abl1",
        ],
        "warning": [
            "Condition/dx-nocode.code: has no code",
            "Observation/no-code.code: has no code",
            "Observation/text-only.code",
            "Observation/no-system.code.coding",
        ],
    }
    for severity, needles in expected.items():
        for needle in needles:
            one(result, severity, needle)
    assert len(result.errors) == len(expected["error"])

"""With a patient, points that the core engine's plan uses come first ("For this patient")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allguide.ask import AskIndex, answer_question
from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.engine import build_plan

Patient = Callable[..., PatientInput]

CHILD_SR: dict[str, Any] = {
    "age_years": 4,
    "sex": "female",
    "weight_kg": 16.5,
    "height_cm": 104,
    "lineage": "B",
    "wbc_x10e9_per_l": 12.4,
    "bcr_abl1": "negative",
    "cns_status": "CNS1",
}
ADULT_PH: dict[str, Any] = {
    "age_years": 45,
    "sex": "male",
    "lineage": "B",
    "bcr_abl1": "positive",
    "fit_for_intensive": True,
}


def test_child_standard_risk_gets_its_induction_first(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    child = patient(**CHILD_SR)
    answer = answer_question("Which induction is recommended?", pack, patient=child, index=index)
    assert answer.in_scope
    first = answer.sections[0]
    assert first.heading == "For this patient"
    ids = [p.source.id for p in first.points]
    assert "stmt.induction.pediatric_sr_3drug" in ids
    assert "cog-sr-induction-3drug" in ids  # the plan's preferred regimen
    assert answer.for_this_patient == ids
    plan = build_plan(child, pack)
    planned = {r.statement_id for ph in plan.phases for r in ph.recommendations} | {
        o.regimen_id for ph in plan.phases for o in ph.regimen_options
    }
    assert set(ids) <= planned
    assert answer.facets.population == "child"
    assert answer.facets.sources["population"] == "patient"
    # Adult-only content is not offered for a 4-year-old.
    everything = [p.source.id for s in answer.sections for p in s.points]
    assert "stmt.induction.adult_ph_negative" not in everything


def test_ph_positive_adult_hears_about_tki_without_saying_so(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    answer = answer_question(
        "What are the treatment options?", pack, patient=patient(**ADULT_PH), index=index
    )
    assert answer.in_scope
    assert answer.sections[0].heading == "For this patient"
    assert answer.facets.ph_status == "positive"
    ids = [p.source.id for s in answer.sections for p in s.points]
    assert any(i.startswith("stmt.ph.") for i in ids)


def test_the_question_overrides_the_patient_for_who(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    answer = answer_question(
        "What about older adults?", pack, patient=patient(**CHILD_SR), index=index
    )
    assert answer.facets.population == "older_adult"
    assert answer.facets.sources["population"] == "question"


def test_without_a_patient_there_is_no_patient_section(pack: ContentPack, index: AskIndex) -> None:
    answer = answer_question("Which induction is recommended?", pack, index=index)
    assert all(s.heading != "For this patient" for s in answer.sections)
    assert answer.for_this_patient == []

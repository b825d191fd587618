"""With a patient, answers follow the core engine's plan: its alerts lead, and nothing the
plan rules out for this patient is presented as applying to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from allguide.ask import Answer, AskIndex, answer_question
from allguide.ask.patient_plan import plan_view
from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.catalog import RULES
from allguide.planning.engine import build_plan

Patient = Callable[..., PatientInput]

# High white count (tumour lysis high risk) in a child; G6PD status varies per test.
HIGH_WBC_CHILD: dict[str, Any] = {"age_years": 7, "sex": "male", "lineage": "B"} | {
    "wbc_x10e9_per_l": 150
}
T315I_ADULT: dict[str, Any] = {
    "age_years": 45,
    "sex": "male",
    "lineage": "B",
    "bcr_abl1": "positive",
    "fit_for_intensive": True,
    "abl1_mutations": ["T315I"],
}


def patient_points(answer: Answer) -> list[str]:
    section = answer.sections[0]
    assert section.heading == "For this patient"
    return [p.source.id for p in section.points]


def alert_statement(pack: ContentPack, patient: PatientInput, code: str) -> str:
    plan = build_plan(patient, pack)
    alert = next(a for a in plan.alerts if a.code == code)
    return RULES[alert.rule].statement


def test_g6pd_deficiency_leads_with_the_contraindication(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    p = patient(**HIGH_WBC_CHILD, g6pd_deficiency=True)
    answer = answer_question("How should we prevent tumour lysis?", pack, patient=p, index=index)
    lead = alert_statement(pack, p, "RASBURICASE_CONTRAINDICATED")
    points = patient_points(answer)
    assert points[0] == lead
    assert answer.bottom_line_citations and answer.bottom_line in answer.sections[0].points[0].text
    # The plan's own word on rasburicase for this patient comes with it.
    assert "stmt.supportive.rasburicase_g6pd" in points[:2]
    assert answer.patient_alerts[0].code == "RASBURICASE_CONTRAINDICATED"
    assert answer.patient_alerts[0].statement_id == lead
    # "High-risk patients should receive rasburicase" and the rasburicase regimen are never
    # shown as applying to this patient; if shown at all, it is as general guidance, last.
    for item in ("stmt.supportive.tls_prophylaxis", "tls-rasburicase"):
        assert item not in answer.for_this_patient
    assert set(answer.not_for_this_patient) <= {
        "stmt.supportive.tls_prophylaxis",
        "tls-rasburicase",
    }
    if answer.not_for_this_patient:
        last = answer.sections[-1]
        assert "not for this patient" in last.heading
        assert [p.source.id for p in last.points] == answer.not_for_this_patient


def test_g6pd_unknown_leads_with_the_check_before_rasburicase(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    p = patient(**HIGH_WBC_CHILD)
    answer = answer_question("How should we prevent tumour lysis?", pack, patient=p, index=index)
    assert patient_points(answer)[0] == alert_statement(pack, p, "G6PD_UNKNOWN_RASBURICASE")
    # Rasburicase is still an option once deficiency is excluded: nothing is ruled out.
    assert answer.not_for_this_patient == []


def test_without_g6pd_deficiency_rasburicase_is_not_held_back(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    view = plan_view(
        build_plan(patient(**HIGH_WBC_CHILD, g6pd_deficiency=False), pack), pack, index
    )
    assert view.excluded_drugs == frozenset()
    assert "rasburicase" not in view.held_back_drugs
    assert "tls-rasburicase" in view.uses  # the plan's preferred option


@pytest.mark.parametrize(
    ("g6pd", "excluded", "held_back"),
    [(True, {"rasburicase"}, {"rasburicase"}), (None, set(), {"rasburicase"})],
)
def test_plan_view_reads_exclusions_from_alerts_and_options(
    pack: ContentPack,
    index: AskIndex,
    patient: Patient,
    g6pd: bool | None,
    excluded: set[str],
    held_back: set[str],
) -> None:
    plan = build_plan(patient(**HIGH_WBC_CHILD, g6pd_deficiency=g6pd), pack)
    view = plan_view(plan, pack, index)
    assert view.excluded_drugs == excluded
    assert held_back <= view.held_back_drugs
    offered = {d.drug for ph in plan.phases for o in ph.regimen_options for d in o.drugs}
    assert not view.excluded_drugs & offered
    # Every item the plan's view uses is free of what it rules out.
    for ph in plan.phases:
        for rec in ph.recommendations:
            if excluded & set(rec.drugs):
                assert rec.statement_id not in view.uses
                assert rec.statement_id in view.not_for_patient


def test_the_same_mechanism_covers_other_alerts(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    """T315I: the plan rules out imatinib; no G6PD-specific code is involved."""
    p = patient(**T315I_ADULT)
    answer = answer_question("Can we use imatinib?", pack, patient=p, index=index)
    assert patient_points(answer)[0] == alert_statement(pack, p, "T315I_PONATINIB")
    imatinib_regimens = {
        r.id for r in pack.regimens.values() if any(line.drug == "imatinib" for line in r.drugs)
    }
    assert imatinib_regimens
    assert not imatinib_regimens & set(answer.for_this_patient)


def test_information_alerts_do_not_jump_the_queue(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    frail = patient(
        age_years=78, sex="female", lineage="B", bcr_abl1="negative", fit_for_intensive=False
    )
    answer = answer_question(
        "What treatment can I get?", pack, audience="patient", patient=frail, index=index
    )
    assert patient_points(answer)[0] != "stmt.pitfalls.interrupt_therapy"
    assert all(a.severity != "info" for a in answer.patient_alerts)


def test_unrelated_answers_carry_no_alert(
    pack: ContentPack, index: AskIndex, patient: Patient
) -> None:
    p = patient(**HIGH_WBC_CHILD, g6pd_deficiency=True)
    answer = answer_question("How long does maintenance last?", pack, patient=p, index=index)
    assert all(a.code != "RASBURICASE_CONTRAINDICATED" for a in answer.patient_alerts)
    assert answer.not_for_this_patient == []

"""check_orders as a function: output contract, ordering, determinism, edge cases."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from order_cases import TODAY, patient_data

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Phase, Quantity, Route
from allguide.patient.intake import parse_patient
from allguide.safety import (
    ORDER_RULES,
    Order,
    OrderDose,
    OrderSet,
    check_orders,
    render_text,
    result_to_dict,
)

IT_VINCRISTINE = {
    "phase": "induction",
    "orders": [
        {"drug": "vincristine", "dose": {"amount": 2.5, "unit": "mg"}, "route": "IT", "days": [1]},
        {"drug": "rasburicase", "dose": {"amount": 3.3, "unit": "mg"}, "route": "iv", "days": [1]},
    ],
}


def test_json_contract_has_findings_checked_rules_and_disclaimer(run) -> None:  # type: ignore[no-untyped-def]
    data = result_to_dict(run(IT_VINCRISTINE, patient_data("child_sr")))
    assert {"findings", "checked_rules", "disclaimer", "counts", "content_version"} <= set(data)
    assert data["checked_rules"] == list(ORDER_RULES)
    first = data["findings"][0]
    assert {"severity", "code", "message", "rule", "citations", "order_index"} <= set(first)
    assert first["citations"][0]["citation"] and first["citations"][0]["id"].startswith("ref.")
    # amounts are JSON numbers, not strings
    suggestion = next(f["suggestion"] for f in data["findings"] if f["suggestion"])
    assert isinstance(suggestion["dose"]["amount"], int | float)
    json.dumps(data)  # serialisable as is


def test_findings_are_sorted_critical_first(run) -> None:  # type: ignore[no-untyped-def]
    result = run(IT_VINCRISTINE, patient_data("child_sr", g6pd_deficiency=None))
    ranks = [{"critical": 0, "warning": 1, "info": 2}[f.severity] for f in result.findings]
    assert ranks == sorted(ranks)
    assert result.counts.critical == sum(f.severity == "critical" for f in result.findings)
    assert {f.code for f in result.findings} >= {
        "VINCA_NOT_IV",
        "DOSE_ABOVE_CAP",
        "RASBURICASE_G6PD_UNKNOWN",
        "INDUCTION_WITHOUT_CNS_PROPHYLAXIS",
    }


def test_same_input_same_result(run) -> None:  # type: ignore[no-untyped-def]
    a = run(IT_VINCRISTINE, patient_data("child_hr"))
    b = run(IT_VINCRISTINE, patient_data("child_hr"))
    assert result_to_dict(a) == result_to_dict(b)


def test_draft_content_is_shown_as_draft(run) -> None:  # type: ignore[no-untyped-def]
    result = run(IT_VINCRISTINE)
    assert result.review == "draft (pending review)"
    text = render_text(result)
    assert "draft, pending review" in text and result.disclaimer in text
    assert "CRITICAL VINCA_NOT_IV" in text


def test_an_order_built_directly_with_an_unknown_drug_is_reported(pack: ContentPack) -> None:
    order = Order(
        drug="unobtainium", dose=OrderDose(amount=Decimal(1), unit="mg"), route=Route.iv, days=[1]
    )
    result = check_orders(OrderSet(orders=[order], phase=Phase.induction), None, pack, today=TODAY)
    assert [f.code for f in result.findings if f.order_index == 0] == ["MEDICINE_NOT_RECOGNISED"]


def test_a_regimen_line_cap_is_enforced(pack: ContentPack) -> None:
    """The cap of the matching regimen line applies (here a test cap of 1000 IU)."""
    regimen = pack.regimens["cog-sr-induction-3drug"]
    lines = []
    for line in regimen.drugs:
        if line.drug == "pegaspargase":
            dose = line.dose.model_copy(update={"cap": Quantity(amount=Decimal(1000), unit="IU")})  # type: ignore[union-attr]
            line = line.model_copy(update={"dose": dose})
        lines.append(line)
    capped = regimen.model_copy(update={"drugs": lines})
    test_pack = dataclasses.replace(
        pack, regimens={**pack.regimens, regimen.id: capped}, version="test-cap"
    )
    patient = parse_patient(patient_data("child_sr"), test_pack)
    order = Order(
        drug="pegaspargase",
        dose=OrderDose(amount=Decimal(1725), unit="IU"),
        route=Route.im,
        days=[4],
    )
    result = check_orders(
        OrderSet(orders=[order], phase=Phase.induction), patient, test_pack, today=TODAY
    )
    (cap,) = [f for f in result.findings if f.code == "DOSE_ABOVE_CAP"]
    assert "cog-sr-induction-3drug" in cap.message
    assert cap.suggestion is not None and cap.suggestion.dose.amount == 1000
    assert not [f for f in result.findings if f.code == "DOSE_DEVIATION"]


def test_without_a_patient_patient_checks_say_they_did_not_run(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        {
            "phase": "induction",
            "orders": [
                {
                    "drug": "daunorubicin",
                    "dose": {"amount": 30, "unit": "mg"},
                    "route": "iv",
                    "days": [1],
                },
                {
                    "drug": "vincristine",
                    "dose": {"amount": 1.5, "unit": "mg"},
                    "route": "iv",
                    "days": [1],
                },
            ],
        }
    )
    codes = {f.code for f in result.findings}
    assert {
        "ANTHRACYCLINE_LVEF_NOT_CHECKED",
        "ANTHRACYCLINE_CUMULATIVE_NOT_CHECKED",
        "DOSE_DEVIATION_NOT_CHECKED",
    } <= codes
    assert all(f.severity == "info" for f in result.findings if f.code.endswith("NOT_CHECKED"))

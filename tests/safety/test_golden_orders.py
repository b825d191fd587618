"""Golden order-check cases: order set (+ patient) in → expected findings out.

Cases are data in tests/cases/orders/ (see its README). Every rule in the catalog must
have a case that triggers it and a case that does not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from order_cases import CASES_DIR, TODAY, patient_data

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.safety import ORDER_RULES, Finding, check_orders, parse_order_set


def load_cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


def test_every_rule_has_a_triggering_and_a_quiet_case() -> None:
    cases = [c.values[0] for c in load_cases()]
    unknown = sorted({c["rule"] for c in cases} - set(ORDER_RULES))
    assert not unknown, f"cases name rules that do not exist: {unknown}"
    for rule_id in ORDER_RULES:
        outcomes = {c["triggers"] for c in cases if c["rule"] == rule_id}
        assert outcomes == {True, False}, f"{rule_id}: needs a triggering and a quiet case"


def _patient(case: dict[str, Any], pack: ContentPack) -> Any:
    raw = case.get("patient")
    if raw is None:
        return None
    data = patient_data(raw, **case.get("patient_changes", {})) if isinstance(raw, str) else raw
    return parse_patient(data, pack)


def _matches(finding: Finding, want: dict[str, Any]) -> bool:
    if finding.code != want["code"]:
        return False
    for key in ("severity", "order_index"):
        if key in want and getattr(finding, key) != want[key]:
            return False
    if "message_contains" in want and want["message_contains"] not in finding.message:
        return False
    if "suggestion" in want:
        if finding.suggestion is None:
            return False
        got = finding.suggestion.model_dump(mode="json")
        for key, value in want["suggestion"].items():
            if got.get(key) != value:
                return False
    return True


@pytest.mark.parametrize("case", load_cases())
def test_golden_order_case(case: dict[str, Any], pack: ContentPack) -> None:
    today = case.get("today", TODAY)
    assert isinstance(today, dt.date)
    result = check_orders(
        parse_order_set(case["order_set"], pack), _patient(case, pack), pack, today=today
    )
    own = [f for f in result.findings if f.rule == case["rule"]]
    shown = [(f.code, f.severity, f.message) for f in result.findings]
    if case["triggers"]:
        assert own, f"{case['rule']} did not fire; findings: {shown}"
    else:
        assert not own, f"{case['rule']} fired: {[(f.code, f.message) for f in own]}"
    for want in case.get("expect", []):
        assert any(_matches(f, want) for f in result.findings), f"missing {want}; got {shown}"
    codes = {f.code for f in result.findings}
    for code in case.get("absent", []):
        assert code not in codes, f"{code} reported: {shown}"
    # Every finding cites its statement's references, and says the content is a draft.
    for f in result.findings:
        assert f.citations, f"{f.code} has no citations"
        assert f.review_status == "draft"

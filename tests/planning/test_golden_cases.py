"""Golden clinical cases: patient in → expected plan facts out (see tests/cases/README.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.planning.engine import build_plan
from allguide.planning.plan import Plan

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"


def load_cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


def options(plan: Plan, phase: str) -> dict[str, Any]:
    for ph in plan.phases:
        if ph.phase == phase:
            return {o.regimen_id: o for o in ph.regimen_options}
    return {}


def all_options(plan: Plan) -> dict[str, Any]:
    return {o.regimen_id: o for ph in plan.phases for o in ph.regimen_options}


def test_case_count_and_thresholds() -> None:
    cases = [c.values[0] for c in load_cases()]
    assert len(cases) >= 40
    by_threshold: dict[str, int] = {}
    for c in cases:
        if "threshold" in c:
            by_threshold[c["threshold"]] = by_threshold.get(c["threshold"], 0) + 1
    lonely = [t for t, n in by_threshold.items() if n < 2]
    assert not lonely, f"thresholds without an in-case and an out-case: {lonely}"


@pytest.mark.parametrize("case", load_cases())
def test_golden_case(case: dict[str, Any], pack: ContentPack) -> None:
    plan = build_plan(parse_patient(case["patient"], pack), pack)
    e = case["expect"]
    for key in ("population", "fitness", "ph_status"):
        if key in e:
            assert getattr(plan, key) == e[key], key
    risk = {r.scheme: r.group for r in plan.risk}
    for scheme, group in e.get("risk", {}).items():
        assert risk.get(scheme) == group, f"{scheme}: {risk.get(scheme)!r} ({plan.risk})"
    for phase, ids in e.get("preferred", {}).items():
        got = sorted(i for i, o in options(plan, phase).items() if o.preferred)
        assert got == sorted(ids), f"preferred {phase}: {got}"
    for phase, ids in e.get("options_include", {}).items():
        missing = set(ids) - set(options(plan, phase))
        assert not missing, f"{phase} lacks {missing}"
    for phase, ids in e.get("options_exclude", {}).items():
        present = set(ids) & set(options(plan, phase))
        assert not present, f"{phase} should not offer {present}"
    for key, value in e.get("tki", {}).items():
        assert getattr(plan.tki, key) == value, f"tki.{key}: {getattr(plan.tki, key)}"
    if "transplant" in e:
        assert plan.transplant.recommendation == e["transplant"], plan.transplant
    codes = {a.code for a in plan.alerts}
    assert set(e.get("alerts_include", [])) <= codes, codes
    assert not set(e.get("alerts_exclude", [])) & codes, codes
    missing_fields = {m.field for m in plan.missing_data}
    assert set(e.get("missing_include", [])) <= missing_fields, missing_fields
    assert not set(e.get("missing_exclude", [])) & missing_fields, missing_fields
    rules = {r.id for ph in plan.phases for r in ph.recommendations}
    assert set(e.get("recs_include", [])) <= rules, sorted(rules)
    assert not set(e.get("recs_exclude", [])) & rules
    opts = all_options(plan)
    for ng in e.get("not_given", []):
        opt = opts[ng["regimen"]]
        assert any(line.startswith(ng["drug"] + " ") for line in opt.excluded_lines), (
            opt.excluded_lines
        )
        assert all(d.drug != ng["drug"] for d in opt.drugs)
    for want in e.get("doses", []):
        opt = opts[want["regimen"]]
        lines = [
            d
            for d in opt.drugs
            if d.drug == want["drug"] and ("day" not in want or want["day"] in d.days)
        ]
        assert lines, f"{want['drug']} not in {want['regimen']}"
        dose = lines[0]
        assert dose.dose is not None, dose.not_computed_reason
        assert dose.dose.amount == Decimal(str(want["amount"])), dose
        assert dose.dose.unit == want["unit"]
        if "cap_applied" in want:
            assert dose.cap_applied is want["cap_applied"], dose

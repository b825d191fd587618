"""The engine builds its output models without validation (`plan.construct`) and pydantic
writes the JSON: both must give what validation and Python's `json.dumps` give (the same
JSON values; pydantic may spell a number differently, 0.00001 for 1e-05)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.planning.engine import build_plan
from allguide.planning.plan import Amount, MissingData, Plan, Recommendation, construct
from allguide.render.plan_json import plan_to_json


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _reference_json(plan: Plan, *, compact: bool = False) -> str:
    """What the output means: Python's encoder, decimals as numbers, dates ISO."""
    data = plan.model_dump(mode="python")
    if compact:
        return json.dumps(data, default=_number, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(data, default=_number, ensure_ascii=False, indent=2) + "\n"


PATIENTS: list[dict[str, Any]] = [
    {"age_years": 4, "sex": "female", "lineage": "B", "wbc_x10e9_per_l": 12,
     "bcr_abl1": "negative", "height_cm": 104, "weight_kg": 17, "cns_status": "CNS1",
     "mrd": [{"timepoint": "end_of_induction", "value_percent": "0.00001"}]},
    {"age_years": 52, "sex": "male", "lineage": "B", "wbc_x10e9_per_l": 64,
     "bcr_abl1": "positive", "height_cm": 178, "weight_kg": 82, "fit_for_intensive": True,
     "cd20_percent": 35, "g6pd_deficiency": False},
    {"age_years": "0.4", "sex": "male", "wbc_x10e9_per_l": 450, "bcr_abl1": "unknown"},
]  # fmt: skip


@pytest.mark.parametrize("raw", PATIENTS, ids=["child", "adult-ph", "infant-sparse"])
@pytest.mark.parametrize("start", [None, dt.date(2026, 1, 5)])
def test_constructed_plan_equals_validated(
    raw: dict[str, Any], start: dt.date | None, pack: ContentPack
) -> None:
    plan = build_plan(parse_patient(raw, pack), pack, start_date=start)
    # strict re-validation of every nested model from the python dump: wrong types fail
    validated = Plan.model_validate(plan.model_dump(mode="python"), strict=True)
    assert validated.model_dump(mode="python") == plan.model_dump(mode="python")
    assert validated.model_dump_json() == plan.model_dump_json()
    text = plan_to_json(plan)
    assert text == plan_to_json(validated) and text.endswith("}\n")
    assert json.loads(text) == json.loads(_reference_json(validated))
    compact = plan_to_json(plan, compact=True)
    assert "\n" not in compact and json.loads(compact) == json.loads(text)
    if start is not None:
        assert plan.calendar and plan.calendar[0].date is not None


def test_construct_fills_defaults_and_rejects_bad_fields() -> None:
    rec = construct(
        Recommendation, id="r", statement_id="s", title="t", text="x", plain_text="p",
        rule="r: when", because=[], citations=[], review_status="draft",
    )  # fmt: skip
    assert rec.drugs == [] and rec == Recommendation.model_validate(rec.model_dump())
    with pytest.raises(TypeError, match="missing field 'why'"):
        construct(MissingData, field="wbc")
    with pytest.raises(TypeError, match="unknown fields"):
        construct(MissingData, field="wbc", why="x", extra=1)


@pytest.mark.parametrize(
    "value", ["0.00001", "0.1", "2.675", "12.50", "1E+3", "123456.789", "0.333333333333", "-4"]
)
def test_decimals_are_json_numbers_that_read_back_exactly(value: str) -> None:
    amount = Amount(amount=Decimal(value), unit="mg")
    text = amount.model_dump_json()
    assert json.loads(text, parse_float=Decimal)["amount"] == Decimal(value)
    assert json.loads(text) == {"amount": _number(Decimal(value)), "unit": "mg"}
    assert amount.model_dump(mode="python")["amount"] == Decimal(value)  # Python dump unchanged

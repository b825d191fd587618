"""The engine builds its output models without validation (`plan.construct`) and renders
JSON with its own writer: both must give exactly what validation and `json.dumps` give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.planning.engine import build_plan
from allguide.planning.plan import MissingData, Plan, Recommendation, construct
from allguide.render.plan_json import _reference_json, plan_to_json

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
    assert plan_to_json(plan) == plan_to_json(validated) == _reference_json(validated)
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


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the odd key, on purpose
def test_json_writer_falls_back_for_unknown_types(pack: ContentPack) -> None:
    plan = build_plan(parse_patient(PATIENTS[0], pack), pack)
    odd = plan.model_copy(update={"review": plan.review.model_copy(update={"counts": {1: 2}})})
    assert plan_to_json(odd) == _reference_json(odd)

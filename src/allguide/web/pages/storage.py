"""The pages' use of the store: save a built plan, load it back for its permalink."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from allguide.patient.model import PatientInput
from allguide.planning.plan import Plan
from allguide.render.plan_json import plan_to_json
from allguide.store import PlanRepository


@dataclass(frozen=True)
class StoredPlanView:
    id: str
    plan: Plan
    input_data: dict[str, Any]
    created_at: dt.datetime


def save_plan(session: Session, patient: PatientInput, plan: Plan, user: str | None) -> str:
    return PlanRepository(session).save(
        patient.model_dump(mode="json", exclude_none=True),
        plan.input_digest,
        plan.engine_version,
        plan.content_version,
        plan_to_json(plan),
        created_by=user,
    )


def load_plan(session: Session, plan_id: str) -> StoredPlanView | None:
    """The plan exactly as it was built (from its stored JSON), or None."""
    if not 8 <= len(plan_id) <= 32:
        return None
    record = PlanRepository(session).get(plan_id)
    if record is None:
        return None
    data = json.loads(record.input_json)
    return StoredPlanView(
        id=record.id,
        plan=Plan.model_validate_json(record.plan_json),
        input_data=data if isinstance(data, dict) else {},
        created_at=record.created_at,
    )

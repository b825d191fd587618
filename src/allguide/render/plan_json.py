"""Plan → JSON. Deterministic: sorted keys are not used (the model order is the contract),
decimals are written as exact strings' numeric values, no timestamps."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from allguide.planning.plan import Plan


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return plan.model_dump(mode="python")


def plan_to_json(plan: Plan) -> str:
    data = plan.model_dump(mode="python")
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

"""Plan → JSON. Deterministic: field order is the model's, no timestamps.

Decimals become JSON numbers; every value in a plan is short enough that Python's
shortest float repr writes it back exactly (70.2 stays 70.2).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from allguide.planning.plan import Plan


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def plan_to_json(plan: Plan) -> str:
    data = plan.model_dump(mode="python")
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

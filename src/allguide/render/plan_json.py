"""Plan → JSON. Deterministic: field order is the model's, no timestamps.

Decimals become JSON numbers (`allguide.json_numbers`), dates ISO strings. pydantic-core
writes the text, about five times faster than Python's `json` module with an indent;
`tests/planning/test_output_models.py` checks it means the same JSON as `json.dumps` of
`plan.model_dump()` (pydantic may spell a number differently: 0.00001 for 1e-05).
"""

from __future__ import annotations

from allguide.planning.plan import Plan


def plan_to_json(plan: Plan, *, compact: bool = False) -> str:
    """Indented with a final newline (files, the CLI), or `compact` on one line (the REST
    API, where a plan is about 110 kB)."""
    if compact:
        return plan.model_dump_json()
    return plan.model_dump_json(indent=2) + "\n"

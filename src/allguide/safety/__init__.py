"""Order safety: check proposed chemotherapy orders against cited content.

Public API (used by the CLI, the REST API and the CDS Hooks service):

- `parse_order_set(data, pack) -> OrderSet` (raises `OrderInputError` listing every problem)
- `check_orders(order_set, patient, pack, *, today) -> OrderCheckResult`
- `ORDER_RULES`: the rule catalog (docs/order-checks.md is generated from it)

Pure core: no clock, no I/O, no web framework.
"""

from __future__ import annotations

from allguide.safety.catalog import ORDER_RULES, OrderRule, Severity, requirements
from allguide.safety.check import ORDER_CHECK_DISCLAIMER, check_orders
from allguide.safety.orders import (
    Order,
    OrderDose,
    OrderInputError,
    OrderSet,
    parse_order_set,
    resolve_drug,
)
from allguide.safety.render import render_text, result_to_dict, result_to_json
from allguide.safety.result import (
    Citation,
    Finding,
    OrderCheckResult,
    SuggestedDose,
    SuggestedOrder,
)

__all__ = [
    "ORDER_CHECK_DISCLAIMER",
    "ORDER_RULES",
    "Citation",
    "Finding",
    "Order",
    "OrderCheckResult",
    "OrderDose",
    "OrderInputError",
    "OrderRule",
    "OrderSet",
    "Severity",
    "SuggestedDose",
    "SuggestedOrder",
    "check_orders",
    "parse_order_set",
    "render_text",
    "requirements",
    "resolve_drug",
    "result_to_dict",
    "result_to_json",
]

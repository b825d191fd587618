"""The result of an order check: plain, serialisable data (the JSON public contract).

Amounts are `Decimal` in Python and JSON numbers on the wire (`model_dump(mode="json")`).
Findings are sorted: critical first, then by order, then in catalog order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from allguide.safety.catalog import Severity

SCHEMA_VERSION = "1.0"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


JsonDecimal = Annotated[
    Decimal, PlainSerializer(_number, return_type=int | float, when_used="json")
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Citation(Out):
    id: str
    citation: str = Field(description="Formatted reference")
    url: str | None


class SuggestedDose(Out):
    amount: JsonDecimal
    unit: str


class SuggestedOrder(Out):
    """The order with the obvious correction applied (same shape as an input order)."""

    drug: str
    dose: SuggestedDose
    route: str
    days: list[int]
    per_day: int
    changed: list[str] = Field(description="Fields that differ from the order as written")


class Finding(Out):
    severity: Severity
    code: str
    message: str
    rule: str = Field(description="Order-check rule id (docs/order-checks.md)")
    statement_id: str
    title: str
    citations: list[Citation]
    order_index: int | None = Field(
        description="0-based index into orders; null for findings about the whole order set"
    )
    suggestion: SuggestedOrder | None = None
    review_status: str = Field(description="Review status of the rule's statement")


class Counts(Out):
    critical: int
    warning: int
    info: int


class OrderCheckResult(Out):
    schema_version: str = SCHEMA_VERSION
    content_version: str
    phase: str | None
    counts: Counts
    findings: list[Finding]
    checked_rules: list[str]
    review: Literal["approved", "draft (pending review)"] = Field(
        description="'approved' only when every statement behind the findings is approved"
    )
    disclaimer: str

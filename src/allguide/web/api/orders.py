"""`POST /order-checks`: check proposed chemotherapy orders against cited content.

Accepts allguide's order-set JSON (as `allguide orders check` reads it) or FHIR R4
MedicationRequests (a Bundle such as CDS Hooks `draftOrders`, a list, or one resource),
recognised by `resourceType`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from allguide.fhir.intake import FhirProblem
from allguide.fhir.orders import orders_from_fhir
from allguide.patient.intake import InputError, parse_patient
from allguide.safety import OrderCheckResult, OrderInputError, check_orders, parse_order_set
from allguide.web.api.body import body_doc, json_body, validated
from allguide.web.api.schemas import OrderCheckRequest
from allguide.web.deps import get_served
from allguide.web.errors import (
    FieldProblem,
    InvalidInput,
    error_responses,
    patient_fields,
)
from allguide.web.security import limit_writes
from allguide.web.state import Served

router = APIRouter(tags=["Order checks"])


class OrderCheckResponse(BaseModel):
    result: OrderCheckResult
    fhir_problems: list[FhirProblem] = Field(
        default_factory=list,
        description="What could not be read from FHIR input (empty for order-set JSON)",
    )


def _is_fhir(orders: dict[str, Any] | list[dict[str, Any]]) -> bool:
    return isinstance(orders, list) or "resourceType" in orders


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.post(
    "/order-checks",
    response_model=OrderCheckResponse,
    summary="Check proposed orders",
    responses=error_responses(413, 415, 422, 429),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("OrderCheckRequest"),
)
def create_order_check(
    body: Annotated[Any, Depends(json_body)],
    served: Annotated[Served, Depends(get_served)],
) -> Response:
    """Findings are sorted critical first. A check that finds nothing does not mean an
    order is safe (see `result.disclaimer`)."""
    payload = validated(OrderCheckRequest, body)
    pack = served.pack
    problems: list[FieldProblem] = []
    patient = None
    if payload.patient is not None:
        try:
            patient = parse_patient(payload.patient, pack)
        except InputError as exc:
            problems += patient_fields(exc, "patient")
    fhir_problems: list[FhirProblem] = []
    order_set = None
    if _is_fhir(payload.orders):
        order_set, fhir_problems = orders_from_fhir(payload.orders, pack)
        if order_set is None:
            problems += [
                FieldProblem(
                    field=f"orders.{p.resource}" + (f".{p.path}" if p.path else ""),
                    value=None,
                    expected=p.message,
                )
                for p in fhir_problems
                if p.severity == "error"
            ] or [FieldProblem(field="orders", value=None, expected="at least one readable order")]
    else:
        try:
            order_set = parse_order_set(payload.orders, pack)
        except OrderInputError as exc:
            problems += patient_fields(exc, "orders")
    if problems or order_set is None:
        raise InvalidInput(
            f"the request has {len(problems)} problem(s); see `fields`", fields=problems
        )
    result = check_orders(order_set, patient, pack, today=payload.today or _utc_today())
    out = OrderCheckResponse(result=result, fhir_problems=fhir_problems)
    return Response(out.model_dump_json(), media_type="application/json")

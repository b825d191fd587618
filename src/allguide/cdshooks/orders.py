"""Draft orders of order-select / order-sign: validation, reading, and corrected orders.

`context.draftOrders` must be a FHIR Bundle; `selections` (order-select) must point into
it. MedicationRequests for another patient than `context.patientId` are left out and
reported, never mixed in. The order set comes from `allguide.fhir.orders.orders_from_fhir`;
each order is traced back to the MedicationRequest (and dosage instruction) it came from,
so that a finding can be shown for a selected order and a suggestion can carry the
corrected MedicationRequest.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from allguide.fhir.intake import FhirProblem
from allguide.fhir.mapping import mapping_table
from allguide.fhir.orders import earliest_date, orders_from_fhir
from allguide.fhir.resources import MedicationRequest
from allguide.knowledge.pack import ContentPack
from allguide.safety import OrderSet, SuggestedOrder

log = logging.getLogger("allguide.cdshooks")

UCUM = "http://unitsofmeasure.org"


class HookInputError(ValueError):
    """The hook context is malformed: the service answers 400 with this message."""


@dataclass(frozen=True)
class OrderSource:
    """Where one checked order came from."""

    label: str  # "MedicationRequest/123"
    resource: dict[str, Any]
    dosage_index: int | None  # None when the order cannot be tied to one dosage
    selected: bool


@dataclass
class DraftOrders:
    medication_requests: list[dict[str, Any]] = field(default_factory=list)
    order_set: OrderSet | None = None
    problems: list[FhirProblem] = field(default_factory=list)
    sources: list[OrderSource] = field(default_factory=list)

    def source_of(self, order_index: int | None) -> OrderSource | None:
        if order_index is None or not 0 <= order_index < len(self.sources):
            return None
        return self.sources[order_index]


def read_draft_orders(
    context: Mapping[str, Any], patient_id: str, pack: ContentPack, *, selections_required: bool
) -> DraftOrders:
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise HookInputError("context.draftOrders must be a FHIR Bundle")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise HookInputError("context.draftOrders.entry must be a list")
    resources = [
        e["resource"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    labels = {f"{r.get('resourceType')}/{r.get('id')}" for r in resources if r.get("id")}
    selected = _selections(context, labels, selections_required)
    out = DraftOrders()
    for resource in resources:
        if resource.get("resourceType") != "MedicationRequest":
            continue
        label = f"MedicationRequest/{resource.get('id')}"
        subject = resource.get("subject")
        ref = subject.get("reference") if isinstance(subject, dict) else None
        if isinstance(ref, str) and ref not in (f"Patient/{patient_id}", patient_id):
            out.problems.append(
                FhirProblem(
                    severity="error",
                    resource=label,
                    path="subject",
                    message=f"is for {ref}, not the patient in context: not checked",
                )
            )
            continue
        out.medication_requests.append(resource)
    if not out.medication_requests:
        return out
    order_set, problems = orders_from_fhir(out.medication_requests, pack)
    out.order_set = order_set
    out.problems += problems
    if order_set is not None:
        out.sources = _trace(out.medication_requests, order_set, pack, selected)
    return out


def _selections(context: Mapping[str, Any], labels: set[str], required: bool) -> set[str] | None:
    raw = context.get("selections")
    if raw is None:
        if required:
            raise HookInputError("context.selections is required for order-select")
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        raise HookInputError("context.selections must be a non-empty list of references")
    unknown = [s for s in raw if s not in labels]
    if unknown:
        raise HookInputError(
            f"context.selections names {len(unknown)} order(s) not in draftOrders "
            f"(first: {unknown[0][:80]})"
        )
    return set(raw)


def _trace(
    requests: list[dict[str, Any]],
    order_set: OrderSet,
    pack: ContentPack,
    selected: set[str] | None,
) -> list[OrderSource]:
    """Read each MedicationRequest alone (same phase and day 1) to see which orders it
    gives; accept the trace only if the pieces add up to the whole order set."""
    start = _earliest_date(requests)
    sources: list[OrderSource] = []
    traced: list[Any] = []
    for resource in requests:
        part, _ = orders_from_fhir(resource, pack, phase=order_set.phase, start=start)
        orders = part.orders if part is not None else []
        traced += orders
        label = f"MedicationRequest/{resource.get('id')}"
        dosages = resource.get("dosageInstruction")
        aligned = isinstance(dosages, list) and len(dosages) == len(orders)
        for j, _order in enumerate(orders):
            sources.append(
                OrderSource(
                    label=label,
                    resource=resource,
                    dosage_index=j if aligned else None,
                    selected=selected is None or label in selected,
                )
            )
    if traced != list(order_set.orders):
        log.warning("draft orders could not be traced to their MedicationRequests")
        return []
    return sources


def _earliest_date(requests: list[dict[str, Any]]) -> dt.date | None:
    """Day 1 of the set, as `orders_from_fhir` computes it for the whole set."""
    valid = []
    for resource in requests:
        try:
            valid.append(MedicationRequest.model_validate(resource))
        except ValidationError:
            continue
    return earliest_date(valid)


# ----------------------------------------------------------------------- corrected order


def corrected_request(source: OrderSource, suggestion: SuggestedOrder) -> dict[str, Any] | None:
    """The MedicationRequest with the suggested route, dose and frequency written in, or
    None when the change cannot be expressed safely in that resource."""
    if source.dosage_index is None:
        return None
    resource = copy.deepcopy(source.resource)
    dosages = resource.get("dosageInstruction")
    if not isinstance(dosages, list) or not isinstance(dosages[source.dosage_index], dict):
        return None
    dosage: dict[str, Any] = dosages[source.dosage_index]
    table = mapping_table()
    changed = set(suggestion.changed)
    if "route" in changed:
        route = next((r for r in table.routes if r.route.value == suggestion.route), None)
        if route is None:
            return None
        system = table.systems[route.system].url
        dosage["route"] = {
            "coding": [{"system": system, "code": route.code, "display": route.display}],
            "text": route.display,
        }
    if changed & {"dose.amount", "dose.unit"}:
        unit = next((u for u in table.dose_units if u.unit.value == suggestion.dose.unit), None)
        rates = dosage.get("doseAndRate")
        if (
            unit is None
            or not isinstance(rates, list)
            or not rates
            or not isinstance(rates[0], dict)
        ):
            return None
        rates[0]["doseQuantity"] = {
            "value": _number(suggestion.dose.amount),
            "unit": suggestion.dose.unit,
            "system": UCUM,
            "code": unit.ucum,
        }
    if "per_day" in changed:
        repeat = (dosage.get("timing") or {}).get("repeat")
        if (
            not isinstance(repeat, dict)
            or repeat.get("periodUnit") != "d"
            or repeat.get("period", 1) not in (1, "1")
        ):
            return None
        repeat["frequency"] = suggestion.per_day
    if "text" in dosage:
        dosage.pop("text")  # the old free text would contradict the corrected fields
    return resource


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)

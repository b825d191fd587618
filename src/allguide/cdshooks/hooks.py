"""The three services: patient data and draft orders in, cards out.

Straight lines over the core: FHIR → `allguide.fhir.intake.patient_from_fhir` → core
`build_plan` → plan card; draft MedicationRequests → `allguide.fhir.orders.orders_from_fhir`
→ `allguide.safety.check_orders` → one card per finding. Data problems become an info or
warning card naming them; anything that stops evaluation becomes a "could not evaluate"
card (never a silent empty answer, never a partial recommendation shown as complete).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from allguide.cdshooks.cards import (
    could_not_evaluate_card,
    data_problems_card,
    finding_card,
    md,
    plan_card,
)
from allguide.cdshooks.models import Card, HookRequest
from allguide.cdshooks.orders import DraftOrders, read_draft_orders
from allguide.cdshooks.prefetch import PatientData
from allguide.fhir.intake import FhirIntake, FhirProblem, patient_from_fhir
from allguide.fhir.mapping import mapping_table
from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.engine import build_plan
from allguide.planning.plan import Plan
from allguide.safety import OrderCheckResult, OrderSet, check_orders

log = logging.getLogger("allguide.cdshooks")

T = TypeVar("T")
MEMO_SIZE = 512


class _Memo:
    """A small thread-safe LRU of core results.

    The core is deterministic: the same FHIR data, content version and date give the same
    intake, plan and order findings. An EHR fires patient-view on every chart opening, so
    the same record comes back again and again; recomputing it was most of a hook call's
    CPU time. Cards are still built per call (each call gets fresh card uuids).
    """

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                value: T = self._items[key]
                return value
        value = compute()  # outside the lock: two threads may compute it once each
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_MEMO = _Memo()


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _intake(bundle: dict[str, Any], ctx: HookContext) -> tuple[str, FhirIntake]:
    """(cache key of this record, its FHIR intake)."""
    key = f"{_digest(bundle)}|{ctx.pack.version}|{ctx.today.isoformat()}"
    intake = _MEMO.get(
        ("intake", key), lambda: patient_from_fhir(bundle, ctx.pack, today=ctx.today)
    )
    return key, intake


def _plan(key: str, patient: PatientInput, pack: ContentPack) -> Plan:
    return _MEMO.get(("plan", key), lambda: build_plan(patient, pack))


def _checked(
    key: str, order_set: OrderSet, patient: PatientInput | None, ctx: HookContext
) -> OrderCheckResult:
    orders_key = _digest(order_set.model_dump(mode="json"))
    return _MEMO.get(
        ("orders", key, orders_key),
        lambda: check_orders(order_set, patient, ctx.pack, today=ctx.today),
    )


# (patient, plan) -> id of the stored plan, or None when plans cannot be stored here.
PlanSaver = Callable[[PatientInput, Plan], str | None]


@dataclass(frozen=True)
class HookContext:
    pack: ContentPack
    today: dt.date
    link_base: str
    save_plan: PlanSaver | None = None


def intake_problem_pairs(intake: FhirIntake, data: PatientData) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = [
        (p.severity, str(p)) for p in intake.problems if p.severity != "info"
    ]
    pairs += [("warning", f"prefetch {p}") for p in data.problems]
    info = [p for p in intake.problems if p.severity == "info"]
    if info:
        pairs.append(("info", f"{len(info)} resource element(s) not used by allguide"))
    return pairs


def used_values_lines(intake: FhirIntake, limit: int = 25) -> list[str]:
    lines = [f"- {md(u)}" for u in intake.used[:limit]]
    if len(intake.used) > limit:
        lines.append(f"- … and {len(intake.used) - limit} more")
    return lines


def has_all_diagnosis(data: PatientData) -> bool:
    """A Condition coded as ALL (by the mapping table's codes), not refuted."""
    table = mapping_table()
    codes = {(table.systems[c.system].url, c.code) for c in table.conditions}
    for resource in data.resources():
        if resource.get("resourceType") != "Condition":
            continue
        status = json.dumps(resource.get("verificationStatus") or {})
        if "refuted" in status or "entered-in-error" in status:
            continue
        for coding in (resource.get("code") or {}).get("coding") or []:
            if isinstance(coding, dict) and (coding.get("system"), coding.get("code")) in codes:
                return True
    return False


def patient_view(data: PatientData, ctx: HookContext) -> list[Card]:
    """The plan card (and a data-problems card) for a patient with ALL; no card otherwise:
    patient-view fires on every chart, and allguide has nothing to say outside ALL."""
    if not has_all_diagnosis(data):
        return []
    key, intake = _intake(data.bundle(), ctx)
    cards: list[Card] = []
    problems = intake_problem_pairs(intake, data)
    if intake.patient is None:
        reason = next(
            (p.message for p in intake.problems if p.severity == "error"),
            "the record has no usable ALL diagnosis or age",
        )
        cards.append(could_not_evaluate_card(reason, link_base=ctx.link_base, what="build a plan"))
    else:
        plan = _plan(key, intake.patient, ctx.pack)
        plan_id = None
        if ctx.save_plan is not None:
            try:
                plan_id = ctx.save_plan(intake.patient, plan)
            except Exception:  # storing is a convenience: the card is still correct without it
                log.exception("could not store the plan built for a patient-view hook")
        plan_url = f"{ctx.link_base}/plans/{plan_id}" if plan_id and ctx.link_base else None
        card = plan_card(plan, ctx.pack, link_base=ctx.link_base, plan_url=plan_url)
        inputs = used_values_lines(intake)
        if inputs and card.detail:
            detail = card.detail + "\n\n**Inputs used (from the record)**\n" + "\n".join(inputs)
            card = card.model_copy(update={"detail": detail})
        cards.append(card)
    if problems:
        cards.append(data_problems_card(problems, ctx.pack, link_base=ctx.link_base))
    return cards


def order_check(
    request: HookRequest, data: PatientData, ctx: HookContext, *, selections_only: bool
) -> list[Card]:
    """order-select (`selections_only`: advice on the newly selected orders) and order-sign.

    The whole draft set is checked either way, because some rules look across orders
    (CNS prophylaxis, a TKI for Ph+, interactions); order-select then keeps the findings
    about a selected order. Raises `HookInputError` (400) for a malformed context.
    """
    draft: DraftOrders = read_draft_orders(
        request.context, data.patient_id, ctx.pack, selections_required=selections_only
    )
    if not draft.medication_requests:
        return []  # nothing allguide checks (e.g. only lab or diet orders): no guidance
    key, intake = _intake(data.bundle(), ctx)
    problems: list[tuple[str, str]] = [(p.severity, str(p)) for p in draft.problems]
    problems += intake_problem_pairs(intake, data)
    if draft.order_set is None and all(
        p.severity == "info" or _not_ours(p) for p in draft.problems
    ):
        return []  # no order for a drug allguide knows (antibiotics, diet, labs): no guidance
    if draft.order_set is None:
        reason = next((m for sev, m in problems if sev == "error"), "no order could be read")
        cards = [could_not_evaluate_card(reason, link_base=ctx.link_base, what="check the orders")]
        return [*cards, data_problems_card(problems, ctx.pack, link_base=ctx.link_base)]
    result = _checked(key, draft.order_set, intake.patient, ctx)
    cards = []
    for finding in result.findings:
        source = draft.source_of(finding.order_index)
        if selections_only and (source is None or not source.selected):
            continue
        cards.append(
            finding_card(
                finding, source, ctx.pack, link_base=ctx.link_base, version=result.content_version
            )
        )
    relevant = [(sev, msg) for sev, msg in problems if sev != "info" or not selections_only]
    if relevant and (cards or any(sev == "error" for sev, _ in relevant)):
        cards.append(
            data_problems_card(
                relevant, ctx.pack, link_base=ctx.link_base, title="Order data problems"
            )
        )
    return cards


def _not_ours(problem: FhirProblem) -> bool:
    """A medication allguide's content does not cover (as opposed to an unreadable order)."""
    return problem.path == "medicationCodeableConcept" and "not a drug in" in problem.message

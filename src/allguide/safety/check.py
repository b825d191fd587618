"""`check_orders`: run every order-check rule over an order set. Pure and deterministic.

No clock (today is passed in), no files, no network: the same order set, patient, content
version and date always give the same result.
"""

from __future__ import annotations

import datetime as dt

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import ReviewStatus
from allguide.patient.model import PatientInput
from allguide.planning.engine import DISCLAIMER
from allguide.safety.catalog import ORDER_RULES, SEVERITY_RANK
from allguide.safety.context import CheckContext
from allguide.safety.orders import OrderSet
from allguide.safety.result import Counts, Finding, OrderCheckResult
from allguide.safety.rules import RULE_FUNCTIONS

ORDER_CHECK_DISCLAIMER = (
    "Order checks support, and do not replace, independent verification of every order by "
    "qualified professionals against the treating protocol, the drug label and institutional "
    "policy. A check that finds nothing does not mean an order is safe. " + DISCLAIMER
)


def check_orders(
    order_set: OrderSet,
    patient: PatientInput | None,
    pack: ContentPack,
    *,
    today: dt.date,
) -> OrderCheckResult:
    """Check proposed orders for one patient (or none: patient-specific checks then say so).

    `today` is the date of the check; it is part of the contract so that date-dependent
    checks stay pure (no rule in this version depends on it).
    """
    ctx = CheckContext(order_set, patient, pack, today)
    findings: list[Finding] = []
    for rule_id in ORDER_RULES:
        findings.extend(RULE_FUNCTIONS[rule_id](ctx))
    position = {rule_id: i for i, rule_id in enumerate(ORDER_RULES)}
    findings.sort(
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            -1 if f.order_index is None else f.order_index,
            position[f.rule],
        )
    )
    approved = ReviewStatus.approved.value
    return OrderCheckResult(
        content_version=pack.version,
        phase=order_set.phase.value if order_set.phase else None,
        counts=Counts(
            critical=sum(f.severity == "critical" for f in findings),
            warning=sum(f.severity == "warning" for f in findings),
            info=sum(f.severity == "info" for f in findings),
        ),
        findings=findings,
        checked_rules=list(ORDER_RULES),
        review=(
            "approved"
            if findings and all(f.review_status == approved for f in findings)
            else "draft (pending review)"
        ),
        disclaimer=ORDER_CHECK_DISCLAIMER,
    )

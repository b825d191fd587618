"""Interfant-06 risk groups for infants (<1 year)."""

from __future__ import annotations

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.plan import RiskEntry
from allguide.risk.criteria import Trace, tri_all, tri_any

STATEMENT = "stmt.risk.interfant"
KMT2A_TERMS = ("KMT2A_rearranged", "KMT2A::AFF1")


def kmt2a_rearranged(patient: PatientInput) -> bool | None:
    if patient.genetics is None:
        return None
    return any(t in patient.genetics for t in KMT2A_TERMS)


def assess_interfant(patient: PatientInput, pack: ContentPack) -> tuple[RiskEntry, Trace]:
    trace = Trace(pack)
    trace.cite_statement(STATEMENT)
    kmt2a = kmt2a_rearranged(patient)

    if kmt2a is None:
        trace.need("genetics", "Interfant risk depends on KMT2A rearrangement")
        trace.fact("KMT2A status unknown")
        return trace.entry("Interfant", "undetermined", "undetermined"), trace
    if not kmt2a:
        trace.fact("KMT2A germline")
        return trace.entry("Interfant", "low", "determined"), trace
    trace.fact("KMT2A rearranged")
    young = trace.threshold(
        "age.interfant_high_risk_months",
        "age_months",
        patient.age_months,
        "Interfant high risk requires age under 6 months",
    )
    high_wbc = trace.threshold(
        "wbc.interfant_high_risk",
        "wbc_x10e9_per_l",
        patient.wbc_x10e9_per_l,
        "Interfant high risk uses WBC ≥300",
    )
    poor_pred = (
        None if patient.prednisone_response is None else patient.prednisone_response == "poor"
    )
    if poor_pred is None:
        trace.need(
            "prednisone_response",
            "a poor prednisone response makes a young KMT2A-r infant high risk",
        )
    else:
        trace.fact(f"prednisone response {patient.prednisone_response}")
    high = tri_all([young, tri_any([high_wbc, poor_pred])])
    if high is None:
        return trace.entry("Interfant", "medium or high (pending data)", "provisional"), trace
    return trace.entry("Interfant", "high" if high else "medium", "determined"), trace

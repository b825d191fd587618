"""NCI/Rome risk groups for children (age 1 to <18) with B-ALL."""

from __future__ import annotations

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.plan import RiskEntry
from allguide.risk.criteria import Trace, tri_any

STATEMENT = "stmt.risk.nci_criteria"


def assess_nci(patient: PatientInput, pack: ContentPack) -> tuple[RiskEntry, Trace]:
    trace = Trace(pack)
    old = trace.threshold(
        "age.nci_high_risk_years", "age_years", patient.age, "NCI/Rome risk uses age"
    )
    high_wbc = trace.threshold(
        "wbc.nci_high_risk",
        "wbc_x10e9_per_l",
        patient.wbc_x10e9_per_l,
        "NCI/Rome risk uses the presenting WBC",
    )
    if patient.lineage == "T":
        trace.fact("T-ALL: NCI group is reported but does not set induction intensity")
    high = tri_any([old, high_wbc])
    trace.cite_statement(STATEMENT)
    if high is None:
        entry = trace.entry("NCI", "undetermined", "undetermined")
    else:
        entry = trace.entry("NCI", "high" if high else "standard", "determined")
    return entry, trace


def nci_high(entry: RiskEntry) -> bool | None:
    return None if entry.status == "undetermined" else entry.group == "high"

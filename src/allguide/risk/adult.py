"""Adult risk (AYA and adults): age, WBC by lineage, immunophenotype, genetics, response.

Factors follow the UKALL XII/E2993, GMALL and GRAALL definitions recorded as content
thresholds. Any adverse factor makes the patient high risk; standard risk needs every
factor known and absent. Ph+ disease follows its own TKI-based pathway.
"""

from __future__ import annotations

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import MrdTimepoint, PatientInput
from allguide.planning.plan import RiskEntry, RiskStatus
from allguide.risk.criteria import Trace, tri_any
from allguide.risk.genetics import genetic_class

STATEMENTS = ("stmt.risk.adult_factors", "stmt.risk.adult_cytogenetics", "stmt.risk.time_to_cr")


def assess_adult(patient: PatientInput, pack: ContentPack) -> tuple[RiskEntry, Trace]:
    trace = Trace(pack)
    for sid in STATEMENTS:
        trace.cite_statement(sid)
    factors = []
    factors.append(
        trace.threshold(
            "age.adult_high_risk_years", "age_years", patient.age, "age is an adult risk factor"
        )
    )
    if patient.lineage == "T":
        factors.append(
            trace.threshold(
                "wbc.adult_t_high_risk",
                "wbc_x10e9_per_l",
                patient.wbc_x10e9_per_l,
                "presenting WBC is a risk factor",
            )
        )
        etp = trace.flag(
            "etp",
            patient.etp,
            "early T-precursor phenotype is a GMALL high-risk feature",
            "early T-precursor (ETP) phenotype",
        )
        factors.append(etp)
    elif patient.lineage == "B":
        factors.append(
            trace.threshold(
                "wbc.adult_b_high_risk",
                "wbc_x10e9_per_l",
                patient.wbc_x10e9_per_l,
                "presenting WBC is a risk factor",
            )
        )
    else:
        trace.need("lineage", "WBC cut-offs and regimens differ for B- and T-lineage ALL")
        factors.append(None)
    genetics = genetic_class(patient, pack, trace, "adult")
    factors.append(None if genetics is None else genetics == "unfavorable")
    if patient.bcr_abl1 == "positive":
        trace.fact("BCR::ABL1 positive (Ph+): TKI-based pathway")
        factors.append(True)
    if patient.induction_outcome == "induction_failure":
        trace.fact("no complete remission after induction")
        factors.append(True)
    if patient.days_to_complete_remission is not None:
        factors.append(
            trace.threshold(
                "remission.gmall_late_cr_days",
                "days_to_complete_remission",
                patient.days_to_complete_remission,
                "late remission is a high-risk factor in GMALL",
            )
        )
    eoi = patient.mrd_at(MrdTimepoint.end_of_induction)
    if eoi is not None:
        negative = trace.threshold(
            "mrd.adult_negative",
            "mrd.end_of_induction",
            eoi,
            "MRD after induction is the key adult risk factor",
        )
        factors.append(not negative)
    else:
        trace.need(
            "mrd.end_of_induction",
            "MRD after induction is the strongest adult predictor and guides transplant",
        )
    high = tri_any(factors)
    status: RiskStatus
    if patient.bcr_abl1 == "positive":
        group, status = "Ph-positive (very high; TKI pathway)", "determined"
    elif high is True:
        group, status = "high", "determined"
    elif high is None:
        group, status = "standard so far (pending data)", "provisional"
    else:
        group, status = "standard", "determined"
    entry = trace.entry("adult", group, status)
    return entry, trace

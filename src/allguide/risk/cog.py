"""COG risk groups for children: B-ALL (AALL08B1 scheme) and T-ALL (AALL0434/AALL1231).

Groups are only as certain as the data: with day-8 or end-of-induction MRD still pending
the group is 'provisional' (what is known so far) or 'undetermined', and the trace says
which results are needed.
"""

from __future__ import annotations

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import MrdTimepoint, PatientInput
from allguide.planning.plan import RiskEntry, RiskStatus
from allguide.risk.criteria import Trace, tri_any
from allguide.risk.genetics import genetic_class

B_STATEMENT = "stmt.risk.cog_groups"
T_STATEMENT = "stmt.risk.t_all_mrd"

_EOI_WHY = "end-of-induction (day 29) marrow MRD is the strongest predictor and sets the COG group"
_DAY8_WHY = "day-8 blood MRD separates low, average and high risk in NCI standard-risk patients"


def unfavorable_characteristics(
    patient: PatientInput, pack: ContentPack, trace: Trace
) -> bool | None:
    """COG 'unfavourable characteristics': CNS3, testicular disease, unfavourable genetics,
    induction failure. True if any is present."""
    cns3 = None if patient.cns_status is None else patient.cns_status == "CNS3"
    if cns3 is None:
        trace.need(
            "cns_status", "CNS3 disease makes a child very high risk and changes CNS therapy"
        )
    elif cns3:
        trace.fact("CNS3 disease")
    testis = patient.testicular_involvement
    if testis:
        trace.fact("testicular involvement")
    elif testis is None and patient.sex == "male":
        trace.need("testicular_involvement", "COG counts testicular leukemia as high risk")
    genetics = genetic_class(patient, pack, trace, "pediatric")
    failure = patient.induction_outcome == "induction_failure"
    if failure:
        trace.fact("induction failure")
    testis_tri = testis if patient.sex == "male" else bool(testis)
    return tri_any([cns3, testis_tri, genetics == "unfavorable" if genetics else None, failure])


def assess_cog_b(
    patient: PatientInput, pack: ContentPack, nci_high: bool | None
) -> tuple[RiskEntry, Trace]:
    trace = Trace(pack)
    trace.cite_statement(B_STATEMENT)
    if nci_high is None:
        trace.fact("NCI group undetermined")
    else:
        trace.fact(f"NCI {'high' if nci_high else 'standard'} risk")
    unfavourable = unfavorable_characteristics(patient, pack, trace)
    genetics = genetic_class(patient, pack, Trace(pack), "pediatric")  # already traced above
    eoi = patient.mrd_at(MrdTimepoint.end_of_induction)
    day8 = patient.mrd_at(MrdTimepoint.day8_blood)
    eoi_pos = trace.threshold("mrd.cog_eoi_positive", "mrd.end_of_induction", eoi, _EOI_WHY)

    if unfavourable:
        return trace.entry("COG", "very high", "determined"), trace
    if nci_high is True:
        old = trace.threshold(
            "age.cog_very_high_risk_years",
            "age_years",
            patient.age,
            "NCI high-risk patients aged 13 or older are very high risk",
        )
        if old or eoi_pos:
            return trace.entry("COG", "very high", "determined"), trace
        if eoi_pos is False and unfavourable is False:
            return trace.entry("COG", "high", "determined"), trace
        return trace.entry("COG", "high (provisional: at least high)", "provisional"), trace
    if nci_high is False:
        if genetics is None:
            return trace.entry("COG", "pending genetics and MRD", "undetermined"), trace
        if eoi_pos is None:
            return trace.entry("COG", "pending end-of-induction MRD", "provisional"), trace
        if genetics == "favorable":
            if eoi_pos:
                status: RiskStatus = "determined" if unfavourable is False else "provisional"
                return trace.entry("COG", "high", status), trace
            low8 = trace.threshold("mrd.cog_day8_low", "mrd.day8_blood", day8, _DAY8_WHY)
            if low8 is None:
                return trace.entry("COG", "low or average (needs day-8 MRD)", "provisional"), trace
            group = "low" if low8 else "average"
        else:  # neutral
            if eoi_pos:
                return trace.entry("COG", "very high", "determined"), trace
            high8 = trace.threshold("mrd.cog_day8_high", "mrd.day8_blood", day8, _DAY8_WHY)
            if high8 is None:
                return trace.entry("COG", "average or high (needs day-8 MRD)", "provisional"), trace
            group = "high" if high8 else "average"
        final: RiskStatus = "determined" if unfavourable is False else "provisional"
        return trace.entry("COG", group, final), trace
    return trace.entry("COG", "undetermined", "undetermined"), trace


def assess_cog_t(patient: PatientInput, pack: ContentPack) -> tuple[RiskEntry, Trace]:
    trace = Trace(pack)
    trace.cite_statement(T_STATEMENT)
    trace.fact("T-ALL: all patients receive 4-drug induction; risk is set after induction")
    eoi = patient.mrd_at(MrdTimepoint.end_of_induction)
    high = trace.threshold("mrd.t_all_eoi_high", "mrd.end_of_induction", eoi, _EOI_WHY)
    if high is None:
        return trace.entry("COG", "pending end-of-induction MRD", "undetermined"), trace
    if high or patient.induction_outcome == "induction_failure":
        return trace.entry("COG", "very high", "determined"), trace
    low = trace.threshold("mrd.t_all_eoi_standard", "mrd.end_of_induction", eoi, _EOI_WHY)
    cns1 = None if patient.cns_status is None else patient.cns_status == "CNS1"
    if cns1 is None:
        trace.need("cns_status", "T-ALL standard risk requires CNS1")
    no_testis = (
        None if patient.testicular_involvement is None else not patient.testicular_involvement
    )
    if patient.sex == "female":
        no_testis = True
    if low and cns1 and no_testis:
        return trace.entry("COG", "standard", "determined"), trace
    if low and (cns1 is None or no_testis is None):
        return trace.entry("COG", "standard or intermediate", "provisional"), trace
    trace.fact(
        "intermediate: MRD below the high-risk cut-off but standard-risk criteria not all met"
    )
    return trace.entry("COG", "intermediate", "determined"), trace

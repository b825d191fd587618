"""Classify a patient's genetics with the content vocabulary's risk classes."""

from __future__ import annotations

from typing import Literal

from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.risk.criteria import Trace

GeneticClass = Literal["favorable", "neutral", "unfavorable"]


def genetic_class(
    patient: PatientInput, pack: ContentPack, trace: Trace, scheme: Literal["pediatric", "adult"]
) -> GeneticClass | None:
    """Unfavourable wins over favourable; None when genetics were not reported.

    A modal chromosome number below the hypodiploidy threshold counts as unfavourable even
    when the genetics list does not name hypodiploidy.
    """
    unfavorable: list[str] = []
    favorable: list[str] = []
    hypodiploid = (
        trace.threshold(
            "karyotype.hypodiploid_modal_number",
            "modal_chromosome_number",
            patient.modal_chromosome_number,
            "hypodiploidy (<44 chromosomes) is an adverse genetic feature",
        )
        if patient.modal_chromosome_number is not None
        else None
    )
    if hypodiploid:
        unfavorable.append("hypodiploidy (modal number)")
    if patient.genetics is None and hypodiploid is None:
        trace.need(
            "genetics",
            "cytogenetics and molecular genetics (e.g. ETV6::RUNX1, hyperdiploidy, KMT2A, "
            "hypodiploidy, iAMP21) change the risk group",
        )
        trace.fact("genetics not reported")
        return None
    for term_id in patient.genetics or ():
        term = pack.genetics.get(term_id)
        if term is None:
            continue
        risk = term.pediatric_risk if scheme == "pediatric" else term.adult_risk
        trace.cite(term.citations)
        if risk == "unfavorable":
            unfavorable.append(term.id)
        elif risk == "favorable":
            favorable.append(term.id)
    if unfavorable:
        trace.fact(f"unfavourable genetics: {', '.join(unfavorable)}")
        return "unfavorable"
    if favorable:
        trace.fact(f"favourable genetics: {', '.join(favorable)}")
        return "favorable"
    shown = ", ".join(patient.genetics or ()) or "none reported abnormal"
    trace.fact(f"genetics neutral ({shown})")
    return "neutral"

"""Regimen options: apply a content regimen to a patient (conditions, doses, calendar)."""

from __future__ import annotations

import datetime as dt

from allguide.dosing.doses import Bsa, compute_dose
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import AppliesIf, Regimen, RegimenDrug
from allguide.patient.model import PatientInput
from allguide.planning.plan import (
    Amount,
    CalendarDay,
    CalendarItem,
    DrugDose,
    PhaseName,
    RegimenOption,
    construct,
)
from allguide.risk.criteria import Tri, fmt, tri_all


def line_applies(cond: AppliesIf | None, patient: PatientInput) -> tuple[Tri, list[str]]:
    """Evaluate a regimen line's structured condition: True, False, or unknown (None)."""
    if cond is None:
        return True, []
    results: list[Tri] = []
    reasons: list[str] = []
    age = patient.age
    if cond.min_age_years is not None:
        results.append(age >= cond.min_age_years)
        reasons.append(
            f"age {fmt(age)} y {'≥' if age >= cond.min_age_years else '<'} "
            f"{fmt(cond.min_age_years)} y"
        )
    if cond.max_age_years is not None:
        results.append(age < cond.max_age_years)
        reasons.append(
            f"age {fmt(age)} y {'<' if age < cond.max_age_years else '≥'} "
            f"{fmt(cond.max_age_years)} y"
        )
    w = patient.weight_kg
    if cond.min_weight_kg is not None:
        results.append(None if w is None else w >= cond.min_weight_kg)
        reasons.append("weight unknown" if w is None else f"weight {fmt(w)} kg")
    if cond.max_weight_kg is not None:
        results.append(None if w is None else w < cond.max_weight_kg)
        reasons.append("weight unknown" if w is None else f"weight {fmt(w)} kg")
    if cond.cns_status:
        cns = patient.cns_status
        results.append(None if cns is None else cns.value in cond.cns_status)
        reasons.append("CNS status unknown" if cns is None else f"{cns.value}")
    if cond.min_cd20_percent is not None:
        cd20 = patient.cd20_percent
        results.append(None if cd20 is None else cd20 >= cond.min_cd20_percent)
        reasons.append("CD20 unknown" if cd20 is None else f"CD20 {fmt(cd20)}%")
    return tri_all(results), reasons


def drug_dose(
    line: RegimenDrug, patient: PatientInput, pack: ContentPack, bsa: Bsa | None, note: str | None
) -> DrugDose:
    base: dict[str, object] = {
        "drug": line.drug,
        "route": line.route.value,
        "days": list(line.days),
        "schedule": line.schedule_text,
        "condition": note or line.condition,
        "citations": list(line.citations),
    }
    if line.dose is None:
        return construct(
            DrugDose,
            dose=None,
            basis="per protocol",
            not_computed_reason=line.notes or "no sourced dose in the content pack",
            **base,
        )
    result = compute_dose(
        line.dose,
        age_years=patient.age,
        bsa_m2=bsa.value_m2 if bsa else None,
        weight_kg=patient.weight_kg,
        drug=pack.drugs.get(line.drug),
    )
    return construct(
        DrugDose,
        dose=None
        if result.amount is None
        else construct(Amount, amount=result.amount, unit=result.unit),
        per=result.per,
        divided_doses=result.divided_doses,
        per_divided_dose=result.per_divided_dose,
        basis=result.basis or "not computed",
        rounding=result.rounding or None,
        cap_applied=result.cap_applied,
        uncapped_dose=result.uncapped_amount,
        cap=None
        if result.cap is None
        else construct(Amount, amount=result.cap.amount, unit=result.cap.unit.value),
        not_computed_reason=result.not_computed_reason,
        **base,
    )


def regimen_option(
    regimen: Regimen,
    phase: PhaseName,
    *,
    preferred: bool,
    why: str,
    patient: PatientInput,
    pack: ContentPack,
    bsa: Bsa | None,
) -> RegimenOption:
    drugs: list[DrugDose] = []
    excluded: list[str] = []
    for line in regimen.drugs:
        applies, reasons = line_applies(line.applies_if, patient)
        if applies is False:
            excluded.append(
                f"{line.drug} ({line.condition or 'condition'}): not applicable — "
                f"{'; '.join(reasons)}"
            )
            continue
        note = None
        if applies is None:
            note = (
                f"only if {line.condition or 'condition met'} — data missing ({'; '.join(reasons)})"
            )
        drugs.append(drug_dose(line, patient, pack, bsa, note))
    return construct(
        RegimenOption,
        regimen_id=regimen.id,
        name=regimen.name,
        phase=phase,
        preferred=preferred,
        why=why,
        review_status=regimen.review.status.value,
        drugs=drugs,
        excluded_lines=excluded,
        citations=list(regimen.citations),
    )


def calendar(options: list[RegimenOption], start: dt.date | None) -> list[CalendarDay]:
    """Day-by-day list of administrations for the given options, dated from `start`."""
    by_day: dict[int, list[CalendarItem]] = {}
    for opt in options:
        for d in opt.drugs:
            if not d.days:
                continue
            if d.per == "day" and d.divided_doses > 1 and d.per_divided_dose is not None:
                note = (
                    f"{d.divided_doses} doses of {fmt(d.per_divided_dose)} {d.dose.unit}"
                    if d.dose
                    else None
                )
            else:
                note = None
            if d.condition:
                note = f"{note}; {d.condition}" if note else d.condition
            # one item per line, shared by its days: items are immutable and identical
            item = construct(
                CalendarItem,
                regimen_id=opt.regimen_id,
                drug=d.drug,
                route=d.route,
                dose=d.dose,
                note=note,
            )
            for day in d.days:
                by_day.setdefault(day, []).append(item)
    return [
        construct(
            CalendarDay,
            day=day,
            date=start + dt.timedelta(days=day - 1) if start else None,
            items=items,
        )
        for day, items in sorted(by_day.items())
    ]


def contains_drug(option: RegimenOption, drug_ids: set[str]) -> bool:
    return any(d.drug in drug_ids for d in option.drugs)

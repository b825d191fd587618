"""Small presentation helpers shared by the page routers (no web framework here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Applicability, DoseSpec
from allguide.planning.engine import format_reference, reference_url
from allguide.render.formatting import number as num
from allguide.web.pages.templating import ENV


@dataclass(frozen=True)
class RefView:
    n: int
    id: str
    citation: str
    url: str | None


def numbered_refs(pack: ContentPack, ids: Iterable[str]) -> tuple[list[RefView], dict[str, int]]:
    """Number references in order of first citation: ([RefView], {ref id: n})."""
    numbering: dict[str, int] = {}
    refs: list[RefView] = []
    for ref_id in ids:
        if ref_id in numbering:
            continue
        ref = pack.references.get(ref_id)
        if ref is None:
            continue  # `content check` reports dangling citations; a page must still render
        numbering[ref_id] = len(refs) + 1
        refs.append(RefView(len(refs) + 1, ref_id, format_reference(ref), reference_url(ref)))
    return refs, numbering


_POPULATIONS = {
    "infant": "infants",
    "child": "children",
    "aya": "adolescents and young adults",
    "adult": "adults",
    "older_adult": "older adults",
}


def applies(a: Applicability) -> str:
    """Applicability in words: 'children; B-lineage; Ph-negative; NCI standard risk'."""
    parts: list[str] = []
    if a.populations:
        parts.append(", ".join(_POPULATIONS.get(p.value, p.value) for p in a.populations))
    if a.lineages:
        parts.append(" or ".join(f"{lin.value}-lineage" for lin in a.lineages))
    if a.ph_status:
        parts.append(" or ".join(f"Ph-{ph.value}" for ph in a.ph_status))
    parts.extend(a.risk)
    return "; ".join(parts) or "all patients"


def dose_rule(spec: DoseSpec | None) -> str:
    """How a regimen line's dose is computed, in words (no patient yet)."""
    if spec is None:
        return "per protocol (no sourced dose)"
    per_day = "/day" if spec.per == "day" else ""
    basis = {
        "per_m2": f"{spec.unit}/m²{per_day}",
        "per_kg": f"{spec.unit}/kg{per_day}",
        "flat": f"{spec.unit}{per_day}",
        "age_banded": f"{spec.unit}{per_day} by age",
    }[spec.basis.value]
    text = f"{num(spec.amount)} {basis}" if spec.amount is not None else basis
    if spec.age_bands:
        bands = []
        for band in spec.age_bands:
            upper = f"–{num(band.max_age_years)}" if band.max_age_years is not None else "+"
            bands.append(f"{num(band.min_age_years)}{upper} y: {num(band.amount)}")
        text += " (" + "; ".join(bands) + ")"
    if spec.divided_doses > 1:
        text += f", in {spec.divided_doses} divided doses"
    if spec.rounding:
        text += f", rounded to {num(spec.rounding.increment)} {spec.unit}"
    return text


ENV.globals.update(applies=applies, dose_rule=dose_rule)

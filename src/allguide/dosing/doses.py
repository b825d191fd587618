"""Dose arithmetic in `Decimal`: body-surface area, per-line doses, caps and rounding.

Order of operations for one regimen line, always the same and shown in the output:
amount (or the patient's age band) × basis (BSA, weight or flat) → rounding → cap
(the regimen's cap and any hard limit of the drug, whichever is lower). Rounding happens
before the cap so that a rounded dose can never exceed the cap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from allguide.knowledge.schemas import (
    AgeBand,
    DoseBasis,
    DoseSpec,
    Drug,
    Quantity,
    RoundingMode,
)

BSA_FORMULA = "Mosteller: BSA (m²) = √(height cm × weight kg / 3600)"
BSA_QUANTUM = Decimal("0.01")
DEFAULT_QUANTUM = Decimal("0.01")  # when a line gives no rounding rule


@dataclass(frozen=True)
class Bsa:
    value_m2: Decimal
    formula: str
    height_cm: Decimal
    weight_kg: Decimal


def mosteller_bsa(height_cm: Decimal, weight_kg: Decimal) -> Bsa:
    """Mosteller BSA, rounded half-up to 0.01 m²."""
    if height_cm <= 0 or weight_kg <= 0:
        raise ValueError("height and weight must be positive")
    with localcontext() as ctx:
        ctx.prec = 28
        value = (height_cm * weight_kg / Decimal(3600)).sqrt()
    return Bsa(value.quantize(BSA_QUANTUM, ROUND_HALF_UP), BSA_FORMULA, height_cm, weight_kg)


@dataclass(frozen=True)
class DoseResult:
    """One computed dose, or the reason it could not be computed."""

    amount: Decimal | None  # per administration (per day when per == "day")
    unit: str
    per: str  # "administration" | "day"
    basis: str  # e.g. "1.5 mg/m² × 1.02 m²"
    cap_applied: bool
    uncapped_amount: Decimal | None
    cap: Quantity | None
    cap_source: str | None  # "regimen" or "drug limit"
    divided_doses: int
    per_divided_dose: Decimal | None
    rounding: str
    not_computed_reason: str | None = None


def _band_amount(bands: list[AgeBand], age_years: Decimal) -> AgeBand | None:
    for band in bands:
        if band.min_age_years <= age_years and (
            band.max_age_years is None or age_years < band.max_age_years
        ):
            return band
    return None


def _round(value: Decimal, increment: Decimal, mode: RoundingMode) -> Decimal:
    rounding = ROUND_HALF_UP if mode == RoundingMode.half_up else ROUND_DOWN
    steps = (value / increment).quantize(Decimal(1), rounding=rounding)
    return (steps * increment).quantize(increment)


def _fmt(d: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros."""
    return f"{d.normalize():f}"


def compute_dose(
    spec: DoseSpec,
    *,
    age_years: Decimal,
    bsa_m2: Decimal | None,
    weight_kg: Decimal | None,
    drug: Drug | None = None,
) -> DoseResult:
    """Compute one administration's dose (or daily total) for a regimen line."""
    unit = spec.unit.value
    empty = DoseResult(
        None, unit, spec.per, "", False, None, None, None, spec.divided_doses, None, ""
    )
    # 1. amount: from the age band when the line is age-dependent
    if spec.age_bands:
        band = _band_amount(spec.age_bands, age_years)
        if band is None:
            return replace(empty, not_computed_reason=f"no age band covers age {_fmt(age_years)}")
        base = band.amount
        upper = f"–<{_fmt(band.max_age_years)}" if band.max_age_years is not None else "+"
        band_text = f" (age band {_fmt(band.min_age_years)}{upper} y)"
    else:
        assert spec.amount is not None  # content check guarantees amount or age_bands
        base = spec.amount
        band_text = ""
    per_text = "/day" if spec.per == "day" else ""
    # 2. scale by the basis
    if spec.basis == DoseBasis.per_m2:
        if bsa_m2 is None:
            return replace(empty, not_computed_reason="needs height_cm and weight_kg for BSA")
        raw = base * bsa_m2
        basis = f"{_fmt(base)} {unit}/m²{per_text}{band_text} × {_fmt(bsa_m2)} m²"
    elif spec.basis == DoseBasis.per_kg:
        if weight_kg is None:
            return replace(empty, not_computed_reason="needs weight_kg")
        raw = base * weight_kg
        basis = f"{_fmt(base)} {unit}/kg{per_text}{band_text} × {_fmt(weight_kg)} kg"
    else:
        raw = base
        basis = f"{_fmt(base)} {unit}{per_text}{band_text} (fixed)"
    # 3. round
    if spec.rounding is not None:
        amount = _round(raw, spec.rounding.increment, spec.rounding.mode)
        rounding = (
            f"rounded {spec.rounding.mode.value.replace('_', ' ')} to "
            f"{_fmt(spec.rounding.increment)} {unit}"
        )
    else:
        amount = _round(raw, DEFAULT_QUANTUM, RoundingMode.half_up)
        rounding = f"rounded half up to {_fmt(DEFAULT_QUANTUM)} {unit} (no protocol rounding rule)"
    # 4. cap: the lower of the line's cap and the drug's hard limit in the same unit
    cap, cap_source = spec.cap, "regimen" if spec.cap else None
    if drug is not None:
        for limit in drug.limits:
            q = limit.max_single_dose
            if q.unit == spec.unit and (cap is None or q.amount < cap.amount):
                cap, cap_source = q, "drug limit"
    uncapped = amount
    capped = cap is not None and amount > cap.amount
    if capped:
        assert cap is not None
        amount = cap.amount
    per_divided = None
    if spec.divided_doses > 1:
        per_divided = _round(amount / spec.divided_doses, DEFAULT_QUANTUM, RoundingMode.down)
    return DoseResult(
        amount=amount,
        unit=unit,
        per=spec.per,
        basis=basis,
        cap_applied=capped,
        uncapped_amount=uncapped if capped else None,
        cap=cap,
        cap_source=cap_source,
        divided_doses=spec.divided_doses,
        per_divided_dose=per_divided,
        rounding=rounding,
    )

"""Exact conversions between mass units; activity units (IU) never convert to mass."""

from __future__ import annotations

from decimal import Decimal

_MG_PER = {"g": Decimal(1000), "mg": Decimal(1), "mcg": Decimal("0.001")}


class UnitError(ValueError):
    pass


def convert(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert a dose between g, mg and mcg exactly (Decimal, no rounding)."""
    if from_unit == to_unit:
        return amount
    if from_unit not in _MG_PER or to_unit not in _MG_PER:
        raise UnitError(f"cannot convert {from_unit} to {to_unit}")
    return amount * _MG_PER[from_unit] / _MG_PER[to_unit]

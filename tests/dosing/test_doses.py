from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allguide.dosing.doses import compute_dose, mosteller_bsa
from allguide.dosing.units import UnitError, convert
from allguide.knowledge.schemas import DoseSpec

D = Decimal


def spec(**kw: object) -> DoseSpec:
    return DoseSpec.model_validate(kw)


VINCRISTINE = spec(
    basis="per_m2",
    amount="1.5",
    unit="mg",
    cap={"amount": 2, "unit": "mg"},
    rounding={"increment": "0.01"},
)


def test_mosteller_known_values() -> None:
    # √(170 × 70 / 3600) = 1.8181… → 1.82 m²
    assert mosteller_bsa(D(170), D(70)).value_m2 == D("1.82")
    # √(104 × 16.5 / 3600) = 0.6904… → 0.69 m²
    assert mosteller_bsa(D(104), D("16.5")).value_m2 == D("0.69")


def test_cap_boundary_vincristine() -> None:
    below = compute_dose(VINCRISTINE, age_years=D(9), bsa_m2=D("1.33"), weight_kg=None)
    at = compute_dose(VINCRISTINE, age_years=D(9), bsa_m2=D("1.34"), weight_kg=None)
    assert below.amount == D("2.00") and not below.cap_applied  # 1.995 rounds to 2.00
    assert at.amount == D(2) and at.cap_applied and at.uncapped_amount == D("2.01")


def test_missing_bsa_is_not_computed_not_zero() -> None:
    r = compute_dose(VINCRISTINE, age_years=D(5), bsa_m2=None, weight_kg=None)
    assert r.amount is None and "height_cm" in (r.not_computed_reason or "")


def test_age_bands_pick_band_by_half_open_interval() -> None:
    it_mtx = spec(
        basis="age_banded",
        unit="mg",
        age_bands=[
            {"min_age_years": 0, "max_age_years": 1, "amount": 6},
            {"min_age_years": 1, "max_age_years": 2, "amount": 8},
            {"min_age_years": 2, "max_age_years": 3, "amount": 10},
            {"min_age_years": 3, "amount": 12},
        ],
    )
    ages = {D("0.99"): D(6), D(1): D(8), D("2.99"): D(10), D(3): D(12), D(40): D(12)}
    for age, expected in ages.items():
        assert compute_dose(it_mtx, age_years=age, bsa_m2=None, weight_kg=None).amount == expected


def test_daily_total_split_into_divided_doses() -> None:
    dex = spec(basis="per_m2", amount=6, unit="mg", per="day", divided_doses=2)
    r = compute_dose(dex, age_years=D(4), bsa_m2=D("0.69"), weight_kg=None)
    assert r.amount == D("4.14") and r.per_divided_dose == D("2.07")


def test_rounding_down_mode() -> None:
    s = spec(basis="per_kg", amount="0.2", unit="mg", rounding={"increment": "0.5", "mode": "down"})
    assert compute_dose(s, age_years=D(30), bsa_m2=None, weight_kg=D(74)).amount == D("14.5")


bsa_values = st.decimals(min_value=D("0.20"), max_value=D("3.00"), places=2)
amounts = st.decimals(min_value=D("0.1"), max_value=D("5000"), places=2)


@given(bsa=bsa_values, amount=amounts, cap=amounts)
def test_never_above_cap(bsa: Decimal, amount: Decimal, cap: Decimal) -> None:
    s = spec(basis="per_m2", amount=amount, unit="mg", cap={"amount": cap, "unit": "mg"})
    r = compute_dose(s, age_years=D(10), bsa_m2=bsa, weight_kg=None)
    assert r.amount is not None and r.amount <= cap
    assert r.cap_applied == (r.uncapped_amount is not None)


@given(a=bsa_values, b=bsa_values, amount=amounts)
def test_monotone_in_bsa(a: Decimal, b: Decimal, amount: Decimal) -> None:
    s = spec(basis="per_m2", amount=amount, unit="mg", cap={"amount": 2, "unit": "mg"})
    lo, hi = sorted([a, b])
    r_lo = compute_dose(s, age_years=D(10), bsa_m2=lo, weight_kg=None).amount
    r_hi = compute_dose(s, age_years=D(10), bsa_m2=hi, weight_kg=None).amount
    assert r_lo is not None and r_hi is not None and r_lo <= r_hi


units = st.sampled_from(["g", "mg", "mcg"])


@given(amount=amounts, a=units, b=units)
def test_unit_round_trip_is_exact(amount: Decimal, a: str, b: str) -> None:
    assert convert(convert(amount, a, b), b, a) == amount


def test_activity_units_do_not_convert_to_mass() -> None:
    with pytest.raises(UnitError):
        convert(D(2500), "IU", "mg")


@given(
    h=st.decimals(min_value=D(30), max_value=D(250), places=1),
    w=st.decimals(min_value=D("0.5"), max_value=D(300), places=1),
)
def test_bsa_is_positive_and_quantised(h: Decimal, w: Decimal) -> None:
    value = mosteller_bsa(h, w).value_m2
    assert value > 0 and value == value.quantize(D("0.01"))


@given(amount=amounts, bsa=bsa_values)
def test_doses_are_decimal_exact_to_quantum(amount: Decimal, bsa: Decimal) -> None:
    s = spec(basis="per_m2", amount=amount, unit="mg")
    r = compute_dose(s, age_years=D(10), bsa_m2=bsa, weight_kg=None)
    assert isinstance(r.amount, Decimal)
    assert abs(r.amount - amount * bsa) <= D("0.005")


def test_drug_hard_limit_applies_even_without_regimen_cap(pack) -> None:  # type: ignore[no-untyped-def]
    drug = pack.drugs["vincristine"]
    if not drug.limits:
        pytest.skip("vincristine has no hard limit in content")
    s = spec(basis="per_m2", amount="1.5", unit="mg")
    r = compute_dose(s, age_years=D(30), bsa_m2=D("2.0"), weight_kg=None, drug=drug)
    assert r.cap_applied and r.amount == drug.limits[0].max_single_dose.amount

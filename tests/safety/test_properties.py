"""Properties of the dose rules, over generated patients and doses (Hypothesis).

- An order for exactly the dose the regimen computes for the patient never triggers the
  deviation rule.
- Any dose above a drug's hard per-dose limit always triggers the cap rule, whatever the
  unit it is written in and whether or not a patient is given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Phase, Route
from allguide.patient.intake import parse_patient
from allguide.planning.engine import build_plan
from allguide.safety import Order, OrderDose, OrderSet, check_orders

TODAY = dt.date(2026, 11, 22)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

patients = st.fixed_dictionaries(
    {
        "age_years": st.decimals(min_value=1, max_value=75, places=1),
        "height_cm": st.decimals(min_value=75, max_value=200, places=0),
        "weight_kg": st.decimals(min_value=9, max_value=120, places=1),
        "wbc_x10e9_per_l": st.decimals(min_value=1, max_value=150, places=1),
        "lineage": st.sampled_from(["B", "T"]),
        "sex": st.sampled_from(["female", "male"]),
    }
).map(lambda p: {**p, "bcr_abl1": "negative", "cns_status": "CNS1", "fit_for_intensive": True})


def exact_orders(patient: Any, pack: ContentPack, phase: str) -> list[Order]:
    """One order per computed line of the preferred regimens of a phase, at its dose."""
    plan = build_plan(patient, pack)
    orders = []
    for ph in plan.phases:
        if ph.phase != phase:
            continue
        for option in ph.regimen_options:
            if not option.preferred:
                continue
            for line in option.drugs:
                if line.dose is None or line.dose.amount is None:
                    continue
                divided = line.per == "day" and line.divided_doses > 1
                amount = line.per_divided_dose if divided else line.dose.amount
                assert amount is not None
                orders.append(
                    Order(
                        drug=line.drug,
                        dose=OrderDose(amount=amount, unit=line.dose.unit),
                        route=Route(line.route),
                        days=line.days,
                        per_day=line.divided_doses if divided else 1,
                    )
                )
    return orders


@SETTINGS
@given(data=patients, phase=st.sampled_from(["induction", "consolidation", "maintenance"]))
def test_the_computed_dose_never_deviates(
    data: dict[str, Any], phase: str, pack: ContentPack
) -> None:
    patient = parse_patient(data, pack)
    orders = exact_orders(patient, pack, phase)
    if not orders:
        return
    result = check_orders(OrderSet(orders=orders, phase=Phase(phase)), patient, pack, today=TODAY)
    deviations = [f.message for f in result.findings if f.code == "DOSE_DEVIATION"]
    assert not deviations


def test_the_generator_reaches_real_regimens(pack: ContentPack) -> None:
    """Guard for the property above: the exact orders are not trivially empty."""
    patient = parse_patient(
        {
            "age_years": 4,
            "height_cm": 104,
            "weight_kg": 16.5,
            "wbc_x10e9_per_l": 10,
            "lineage": "B",
            "bcr_abl1": "negative",
            "cns_status": "CNS1",
        },
        pack,
    )
    drugs = {o.drug for o in exact_orders(patient, pack, "induction")}
    assert {"vincristine", "dexamethasone", "pegaspargase", "methotrexate"} <= drugs


UNIT_FACTOR = {"mg": Decimal(1), "g": Decimal("0.001"), "mcg": Decimal(1000)}


@SETTINGS
@given(
    excess=st.decimals(min_value=Decimal("0.001"), max_value=100, places=3),
    unit=st.sampled_from(sorted(UNIT_FACTOR)),
    with_patient=st.booleans(),
    route=st.sampled_from([Route.iv, Route.intrathecal]),
)
def test_any_dose_above_the_hard_limit_is_critical(
    excess: Decimal, unit: str, with_patient: bool, route: Route, pack: ContentPack
) -> None:
    limited = [d for d in pack.drugs.values() if d.limits]
    assert limited, "the pack has no drug with a hard per-dose limit"
    patient = (
        parse_patient(
            {
                "age_years": 8,
                "height_cm": 130,
                "weight_kg": 28,
                "lineage": "B",
                "wbc_x10e9_per_l": 5,
                "bcr_abl1": "negative",
            },
            pack,
        )
        if with_patient
        else None
    )
    for drug in limited:
        cap = drug.limits[0].max_single_dose
        if cap.unit.value not in UNIT_FACTOR:
            continue
        in_mg = cap.amount / UNIT_FACTOR[cap.unit.value]
        amount = (in_mg + excess) * UNIT_FACTOR[unit]
        order = Order(drug=drug.id, dose=OrderDose(amount=amount, unit=unit), route=route, days=[1])
        result = check_orders(
            OrderSet(orders=[order], phase=Phase.induction), patient, pack, today=TODAY
        )
        caps = [f for f in result.findings if f.code == "DOSE_ABOVE_CAP"]
        assert caps and caps[0].severity == "critical", (drug.id, amount, unit)
        assert caps[0].suggestion is not None
        assert caps[0].suggestion.dose.amount == cap.amount


@SETTINGS
@given(fraction=st.decimals(min_value=Decimal("0.01"), max_value=1, places=2))
def test_a_dose_at_or_below_the_hard_limit_is_not_capped(
    fraction: Decimal, pack: ContentPack
) -> None:
    for drug in (d for d in pack.drugs.values() if d.limits):
        cap = drug.limits[0].max_single_dose
        order = Order(
            drug=drug.id,
            dose=OrderDose(amount=cap.amount * fraction, unit=cap.unit.value),
            route=drug.routes[0],
            days=[1],
        )
        result = check_orders(
            OrderSet(orders=[order], phase=Phase.induction), None, pack, today=TODAY
        )
        assert not [f for f in result.findings if f.rule == "dose.above_cap"]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["iv", "IT", "mg", "IU", "bid", "vincristine", "induction"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "orders",
                    "phase",
                    "regimen",
                    "drug",
                    "dose",
                    "amount",
                    "unit",
                    "route",
                    "days",
                    "per_day",
                    "frequency",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@SETTINGS
@given(data=json_values)
def test_any_input_is_either_an_order_set_or_an_input_error(data: Any, pack: ContentPack) -> None:
    from allguide.safety import OrderInputError, parse_order_set

    try:
        order_set = parse_order_set(data, pack)
    except OrderInputError as exc:
        assert exc.problems and all(p.field and p.message for p in exc.problems)
        return
    check_orders(order_set, None, pack, today=TODAY)  # must not raise

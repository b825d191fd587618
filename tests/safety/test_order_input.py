"""The order-set input contract: what is accepted, and how every problem is reported."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Phase, Route
from allguide.safety import OrderInputError, parse_order_set


def order(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "drug": "vincristine",
        "dose": {"amount": 1, "unit": "mg"},
        "route": "iv",
        "days": [1],
    }
    base.update(fields)
    return base


def problems(data: Any, pack: ContentPack) -> dict[str, str]:
    with pytest.raises(OrderInputError) as exc:
        parse_order_set(data, pack)
    return {p.field: p.message for p in exc.value.problems}


def test_the_issue_example_parses(pack: ContentPack) -> None:
    data = {
        "orders": [
            {
                "drug": "vincristine",
                "dose": {"amount": 2, "unit": "mg"},
                "route": "intrathecal",
                "days": [1],
            }
        ],
        "phase": "induction",
    }
    parsed = parse_order_set(data, pack)
    assert parsed.phase == Phase.induction
    (o,) = parsed.orders
    assert (o.drug, o.dose.amount, o.dose.unit, o.route, o.days, o.per_day) == (
        "vincristine",
        Decimal(2),
        "mg",
        Route.intrathecal,
        [1],
        1,
    )


@pytest.mark.parametrize(
    ("written", "drug_id"),
    [
        ("Oncovin", "vincristine"),
        ("VCR", "vincristine"),
        ("6-MP", "mercaptopurine"),
        ("6mp", "mercaptopurine"),
        ("Leucovorin", "calcium folinate"),
        ("tmp-smx", "co-trimoxazole"),
        ("ERWINIA ASPARAGINASE", "asparaginase erwinia (recombinant)"),
        ("Prilosec", "omeprazole"),
    ],
)
def test_drug_names_brands_and_aliases_resolve(
    written: str, drug_id: str, pack: ContentPack
) -> None:
    assert parse_order_set({"orders": [order(drug=written)]}, pack).orders[0].drug == drug_id


@pytest.mark.parametrize(
    ("written", "route"),
    [
        ("IV", Route.iv),
        ("I.V.", Route.iv),
        ("Intrathecal", Route.intrathecal),
        ("IT", Route.intrathecal),
        ("by mouth", Route.po),
        ("SQ", Route.sc),
        ("Ommaya", Route.intraventricular),
    ],
)
def test_route_words(written: str, route: Route, pack: ContentPack) -> None:
    assert parse_order_set({"orders": [order(route=written)]}, pack).orders[0].route == route


def test_units_frequency_and_days_are_normalised(pack: ContentPack) -> None:
    parsed = parse_order_set(
        {
            "orders": [
                order(
                    dose={"amount": "1500", "unit": "µg"},
                    days=[8, 1, 8],
                    frequency="BID",
                )
            ]
        },
        pack,
    )
    o = parsed.orders[0]
    assert o.dose == type(o.dose)(amount=Decimal(1500), unit="mcg")
    assert o.days == [1, 8]
    assert o.per_day == 2
    assert o.daily_amount == Decimal(3000)
    assert o.administrations == 4


def test_every_problem_is_reported_with_its_path(pack: ContentPack) -> None:
    found = problems(
        {
            "phase": "inducton",
            "colour": "red",
            "orders": [
                order(drug="vincristin", route="spinal"),
                order(dose={"amount": -2, "unit": "mg/m2"}, days=[0, "x"]),
                order(frequency="every so often"),
                "not an order",
            ],
        },
        pack,
    )
    assert "did you mean 'induction'" in found["phase"]
    assert "unknown field" in found["colour"]
    assert "did you mean 'vincristine'" in found["orders[0].drug"]
    assert "unknown route" in found["orders[0].route"]
    assert found["orders[1].dose.amount"] == "expected a positive amount"
    assert "not a dose per m²" in found["orders[1].dose.unit"]
    assert "expected a day from 1" in found["orders[1].days[0]"]
    assert found["orders[1].days[1]"] == "expected a whole number"
    assert "give per_day" in found["orders[2].frequency"]
    assert "expected a mapping" in found["orders[3]"]


def test_missing_and_empty_orders(pack: ContentPack) -> None:
    assert problems({"phase": "induction"}, pack) == {"orders": "this field is required"}
    assert "non-empty list" in problems({"orders": []}, pack)["orders"]
    assert "expected a mapping" in problems(["vincristine"], pack)["order set"]
    missing = problems({"orders": [{"drug": "vincristine"}]}, pack)
    assert set(missing) == {"orders[0].dose", "orders[0].route", "orders[0].days"}


def test_ambiguous_and_conflicting_input(pack: ContentPack) -> None:
    found = problems(
        {
            "orders": [
                order(drug="PRED"),
                order(per_day=3, frequency="bid"),
                order(dose={"amount": True, "unit": "mg"}),
            ]
        },
        pack,
    )
    assert "prednisolone" in found["orders[0].drug"] and "prednisone" in found["orders[0].drug"]
    assert "means 2 per day" in found["orders[1].per_day"]
    assert found["orders[2].dose.amount"] == "expected a number"


def test_named_regimen_must_exist_and_fit_the_phase(pack: ContentPack) -> None:
    assert (
        "did you mean"
        in problems({"orders": [order()], "regimen": "cog-sr-induction"}, pack)["regimen"]
    )
    wrong = problems(
        {"orders": [order()], "phase": "maintenance", "regimen": "bfm-protocol-ia"}, pack
    )
    assert "not a maintenance regimen" in wrong["regimen"]
    ok = parse_order_set(
        {"orders": [order()], "phase": "induction", "regimen": "bfm-protocol-ia"}, pack
    )
    assert ok.regimen == "bfm-protocol-ia"


def test_problem_text_names_field_value_and_expectation(pack: ContentPack) -> None:
    with pytest.raises(OrderInputError) as exc:
        parse_order_set({"orders": [order(route="spinal")]}, pack)
    assert str(exc.value.problems[0]).startswith("orders[0].route: 'spinal': unknown route")


def test_implausible_amounts_are_input_errors(pack: ContentPack) -> None:
    found = problems({"orders": [order(dose={"amount": "1e30", "unit": "mg"})]}, pack)
    assert found["orders[0].dose.amount"] == "implausibly large: check the amount"
    found = problems({"orders": [order(dose={"amount": "NaN", "unit": "mg"})]}, pack)
    assert found["orders[0].dose.amount"] == "expected a number"

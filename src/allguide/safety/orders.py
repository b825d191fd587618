"""Order sets: the input contract of `allguide check` and its forgiving parser.

An order set is a list of proposed administrations plus the treatment phase they belong
to. `parse_order_set` accepts what clinicians type (brand names, "IV", "Intrathecal",
"bid", "µg") and reports every problem at once with a field path such as
`orders[0].route`, the value given and what is expected.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import Phase, Route
from allguide.patient.intake import InputError, InputProblem

ORDER_UNITS = ("mg", "g", "mcg", "IU")
MAX_DAY = 3650  # ten years of day numbers is far beyond any ALL protocol
MAX_PER_DAY = 24
MAX_AMOUNT = Decimal(10) ** 9  # far above any real dose in any unit; bounds the arithmetic

_MISSING = object()


class OrderInputError(InputError):
    """The order set is not usable; `problems` names every field that is wrong."""


class OrderDose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Decimal = Field(gt=0, lt=MAX_AMOUNT, description="Amount per administration")
    unit: str = Field(description="mg, g, mcg or IU")


class Order(BaseModel):
    """One proposed drug order: `dose` is given `per_day` times on each listed day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drug: str = Field(description="Content drug id (lowercase INN), e.g. 'vincristine'")
    dose: OrderDose
    route: Route
    days: list[int] = Field(min_length=1, description="Treatment days, day 1 = first day")
    per_day: int = Field(default=1, ge=1, le=MAX_PER_DAY, description="Administrations per day")
    frequency: str | None = Field(default=None, description="Frequency as written, e.g. 'bid'")

    @property
    def daily_amount(self) -> Decimal:
        return self.dose.amount * self.per_day

    @property
    def administrations(self) -> int:
        return len(self.days) * self.per_day


class OrderSet(BaseModel):
    """The orders to check, the phase they belong to and, optionally, their regimen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    orders: list[Order] = Field(min_length=1)
    phase: Phase | None = Field(default=None, description="Treatment phase; unknown if absent")
    regimen: str | None = Field(
        default=None,
        description="Regimen id to compare doses with (default: the plan's preferred regimen)",
    )


# --------------------------------------------------------------------------- vocabularies

ROUTE_WORDS: dict[str, Route] = {
    "iv": Route.iv,
    "intravenous": Route.iv,
    "intravenously": Route.iv,
    "ivinfusion": Route.iv,
    "ivpush": Route.iv,
    "im": Route.im,
    "intramuscular": Route.im,
    "sc": Route.sc,
    "sq": Route.sc,
    "subq": Route.sc,
    "subcut": Route.sc,
    "subcutaneous": Route.sc,
    "po": Route.po,
    "oral": Route.po,
    "orally": Route.po,
    "bymouth": Route.po,
    "it": Route.intrathecal,
    "intrathecal": Route.intrathecal,
    "intraventricular": Route.intraventricular,
    "ommaya": Route.intraventricular,
}

UNIT_WORDS: dict[str, str] = {
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "mcg": "mcg",
    "µg": "mcg",
    "μg": "mcg",  # Greek mu as well as the micro sign
    "ug": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "iu": "IU",
    "u": "IU",
    "unit": "IU",
    "units": "IU",
    "internationalunit": "IU",
    "internationalunits": "IU",
}

FREQUENCY_WORDS: dict[str, int] = {
    "once": 1,
    "oncedaily": 1,
    "daily": 1,
    "qd": 1,
    "od": 1,
    "q24h": 1,
    "bid": 2,
    "bd": 2,
    "twicedaily": 2,
    "q12h": 2,
    "tid": 3,
    "tds": 3,
    "threetimesdaily": 3,
    "q8h": 3,
    "qid": 4,
    "qds": 4,
    "fourtimesdaily": 4,
    "q6h": 4,
    "q4h": 6,
}

ORDER_FIELDS = ("drug", "dose", "route", "days", "per_day", "frequency")
SET_FIELDS = ("orders", "phase", "regimen")


def _key(text: str) -> str:
    """Lowercase without spaces, dots, hyphens or underscores: 'I.V.' → 'iv'."""
    return re.sub(r"[\s._\-/]+", "", text.strip().lower())


# --------------------------------------------------------------------------- drug names


def drug_index(pack: ContentPack) -> dict[str, frozenset[str]]:
    """Every drug name the pack knows (id, name, brand, alias) → drug ids it may mean."""
    cached = _DRUG_INDEX.get(pack.version)
    if cached is not None:
        return cached
    index: dict[str, set[str]] = {}
    for drug in pack.drugs.values():
        for name in (drug.id, drug.name, *drug.brand_names, *drug.aliases):
            index.setdefault(_key(name), set()).add(drug.id)
    frozen = {k: frozenset(v) for k, v in index.items()}
    _DRUG_INDEX[pack.version] = frozen
    return frozen


_DRUG_INDEX: dict[str, dict[str, frozenset[str]]] = {}


def resolve_drug(name: str, pack: ContentPack) -> tuple[str | None, str | None]:
    """(drug id, None) when the name is known; (None, why not) otherwise."""
    if name in pack.drugs:
        return name, None
    ids = drug_index(pack).get(_key(name))
    if ids is None:
        names = sorted({d.id for d in pack.drugs.values()})
        close = difflib.get_close_matches(name.strip().lower(), names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return None, f"unknown drug{hint} (give the content drug id, e.g. 'vincristine')"
    if len(ids) > 1:
        options = " or ".join(repr(i) for i in sorted(ids))
        return None, f"ambiguous drug name: it could mean {options}; give the drug id"
    return next(iter(ids)), None


# --------------------------------------------------------------------------- parser


def parse_order_set(data: Any, pack: ContentPack) -> OrderSet:
    """Validate raw data (a parsed JSON/YAML mapping) into an `OrderSet`.

    Raises `OrderInputError` listing every problem, each with its field path.
    """
    problems: list[InputProblem] = []
    if not isinstance(data, dict):
        raise OrderInputError(
            [
                InputProblem(
                    "order set",
                    type(data).__name__,
                    "expected a mapping with 'orders' (a list) and 'phase'",
                )
            ]
        )
    _unknown_keys(data, SET_FIELDS, "", problems)
    phase = _parse_phase(data.get("phase"), problems)
    regimen = _parse_regimen(data.get("regimen"), phase, pack, problems)
    orders: list[Order] = []
    raw_orders = data.get("orders", _MISSING)
    if raw_orders is _MISSING:
        problems.append(InputProblem("orders", _MISSING_VALUE, "this field is required"))
    elif not isinstance(raw_orders, list) or not raw_orders:
        problems.append(
            InputProblem("orders", _shown(raw_orders), "expected a non-empty list of orders")
        )
    else:
        for i, raw in enumerate(raw_orders):
            order = _parse_order(raw, f"orders[{i}]", pack, problems)
            if order is not None:
                orders.append(order)
    if problems:
        raise OrderInputError(problems)
    return OrderSet(orders=orders, phase=phase, regimen=regimen)


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING_VALUE = _Missing()


def _shown(value: Any) -> Any:
    """Value as shown in a problem; long lists and mappings are summarised."""
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list) and len(value) > 6:
        return f"[{len(value)} items]"
    return value


def _unknown_keys(
    data: dict[str, Any], allowed: tuple[str, ...], prefix: str, problems: list[InputProblem]
) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            expected = ", ".join(allowed)
            problems.append(
                InputProblem(
                    f"{prefix}{key}",
                    _shown(data[key]),
                    f"unknown field{hint} (expected: {expected})",
                )
            )


def _parse_phase(raw: Any, problems: list[InputProblem]) -> Phase | None:
    if raw is None:
        return None
    allowed = ", ".join(p.value for p in Phase)
    if isinstance(raw, str):
        for phase in Phase:
            if phase.value == raw.strip().lower():
                return phase
        close = difflib.get_close_matches(raw.strip().lower(), [p.value for p in Phase], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.append(InputProblem("phase", raw, f"unknown phase{hint} (one of: {allowed})"))
    else:
        problems.append(InputProblem("phase", _shown(raw), f"expected one of: {allowed}"))
    return None


def _parse_regimen(
    raw: Any, phase: Phase | None, pack: ContentPack, problems: list[InputProblem]
) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw.strip() not in pack.regimens:
        close = difflib.get_close_matches(str(raw), sorted(pack.regimens), n=2, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        problems.append(
            InputProblem("regimen", _shown(raw), f"unknown regimen id{hint} (docs/rules.md)")
        )
        return None
    regimen = pack.regimens[raw.strip()]
    if phase is not None and phase not in regimen.phases:
        phases = ", ".join(p.value for p in regimen.phases)
        problems.append(
            InputProblem(
                "regimen",
                raw,
                f"regimen '{regimen.id}' is not a {phase.value} regimen (its phases: {phases})",
            )
        )
    return regimen.id


def _parse_order(
    raw: Any, where: str, pack: ContentPack, problems: list[InputProblem]
) -> Order | None:
    if not isinstance(raw, dict):
        problems.append(
            InputProblem(where, _shown(raw), "expected a mapping with drug, dose, route and days")
        )
        return None
    before = len(problems)
    _unknown_keys(raw, ORDER_FIELDS, f"{where}.", problems)
    drug = _parse_drug(raw.get("drug", _MISSING), f"{where}.drug", pack, problems)
    dose = _parse_dose(raw.get("dose", _MISSING), f"{where}.dose", problems)
    route = _parse_route(raw.get("route", _MISSING), f"{where}.route", problems)
    days = _parse_days(raw.get("days", _MISSING), f"{where}.days", problems)
    per_day, frequency = _parse_frequency(raw.get("per_day"), raw.get("frequency"), where, problems)
    if len(problems) > before or drug is None or dose is None or route is None or days is None:
        return None
    return Order(drug=drug, dose=dose, route=route, days=days, per_day=per_day, frequency=frequency)


def _parse_drug(
    raw: Any, where: str, pack: ContentPack, problems: list[InputProblem]
) -> str | None:
    if raw is _MISSING:
        problems.append(InputProblem(where, _MISSING_VALUE, "this field is required"))
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(
            InputProblem(where, _shown(raw), "expected a drug id such as 'vincristine'")
        )
        return None
    drug_id, why = resolve_drug(raw, pack)
    if drug_id is None:
        problems.append(InputProblem(where, raw, why or "unknown drug"))
    return drug_id


def _parse_number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
    elif isinstance(raw, float | str):
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            return None
    else:
        return None
    return value if value.is_finite() else None


def _parse_dose(raw: Any, where: str, problems: list[InputProblem]) -> OrderDose | None:
    if raw is _MISSING:
        problems.append(InputProblem(where, _MISSING_VALUE, "this field is required"))
        return None
    if not isinstance(raw, dict):
        problems.append(
            InputProblem(where, _shown(raw), "expected {amount, unit}, e.g. {amount: 2, unit: mg}")
        )
        return None
    _unknown_keys(raw, ("amount", "unit"), f"{where}.", problems)
    amount_raw = raw.get("amount", _MISSING)
    amount = None if amount_raw is _MISSING else _parse_number(amount_raw)
    if amount_raw is _MISSING:
        problems.append(InputProblem(f"{where}.amount", _MISSING_VALUE, "this field is required"))
    elif amount is None:
        problems.append(InputProblem(f"{where}.amount", amount_raw, "expected a number"))
    elif amount <= 0:
        problems.append(InputProblem(f"{where}.amount", amount_raw, "expected a positive amount"))
        amount = None
    elif amount >= MAX_AMOUNT:
        problems.append(
            InputProblem(f"{where}.amount", amount_raw, "implausibly large: check the amount")
        )
        amount = None
    unit_raw = raw.get("unit", _MISSING)
    unit = None
    if unit_raw is _MISSING:
        problems.append(InputProblem(f"{where}.unit", _MISSING_VALUE, "this field is required"))
    elif not isinstance(unit_raw, str):
        problems.append(
            InputProblem(
                f"{where}.unit", _shown(unit_raw), f"expected one of: {', '.join(ORDER_UNITS)}"
            )
        )
    else:
        unit = UNIT_WORDS.get(_key(unit_raw)) or UNIT_WORDS.get(unit_raw.strip().lower())
        if unit is None:
            hint = ""
            if "/" in unit_raw or "m2" in _key(unit_raw) or "kg" in _key(unit_raw):
                hint = "; give the absolute dose for this patient, not a dose per m² or per kg"
            elif _key(unit_raw) in {"ml", "l"}:
                hint = "; give the dose as an amount of drug, not a volume"
            problems.append(
                InputProblem(
                    f"{where}.unit",
                    unit_raw,
                    f"unknown unit (one of: {', '.join(ORDER_UNITS)}){hint}",
                )
            )
    if amount is None or unit is None:
        return None
    return OrderDose(amount=amount, unit=unit)


def _parse_route(raw: Any, where: str, problems: list[InputProblem]) -> Route | None:
    allowed = ", ".join(r.value for r in Route)
    if raw is _MISSING:
        problems.append(InputProblem(where, _MISSING_VALUE, f"this field is required ({allowed})"))
        return None
    if isinstance(raw, str):
        route = ROUTE_WORDS.get(_key(raw))
        if route is not None:
            return route
        close = difflib.get_close_matches(_key(raw), list(ROUTE_WORDS), n=1, cutoff=0.6)
        hint = f"; did you mean '{ROUTE_WORDS[close[0]].value}'?" if close else ""
        problems.append(InputProblem(where, raw, f"unknown route{hint} (one of: {allowed})"))
    else:
        problems.append(InputProblem(where, _shown(raw), f"expected one of: {allowed}"))
    return None


def _parse_days(raw: Any, where: str, problems: list[InputProblem]) -> list[int] | None:
    if raw is _MISSING:
        problems.append(
            InputProblem(where, _MISSING_VALUE, "this field is required (e.g. [1, 8, 15, 22])")
        )
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        problems.append(
            InputProblem(where, _shown(raw), "expected a non-empty list of day numbers")
        )
        return None
    days: set[int] = set()
    for j, value in enumerate(raw):
        number = _parse_number(value) if not isinstance(value, str) else None
        if number is None or number != number.to_integral_value():
            problems.append(InputProblem(f"{where}[{j}]", _shown(value), "expected a whole number"))
        elif not 1 <= number <= MAX_DAY:
            problems.append(
                InputProblem(
                    f"{where}[{j}]",
                    value,
                    f"expected a day from 1 to {MAX_DAY} (day 1 = first day)",
                )
            )
        else:
            days.add(int(number))
    return sorted(days) if len(days) else None


def _parse_frequency(
    raw_per_day: Any, raw_frequency: Any, where: str, problems: list[InputProblem]
) -> tuple[int, str | None]:
    per_day: int | None = None
    if raw_per_day is not None:
        number = _parse_number(raw_per_day) if not isinstance(raw_per_day, str) else None
        if number is None or number != number.to_integral_value():
            problems.append(
                InputProblem(f"{where}.per_day", _shown(raw_per_day), "expected a whole number")
            )
        elif not 1 <= number <= MAX_PER_DAY:
            problems.append(
                InputProblem(
                    f"{where}.per_day",
                    raw_per_day,
                    f"expected administrations per day from 1 to {MAX_PER_DAY}",
                )
            )
        else:
            per_day = int(number)
    frequency = None
    if raw_frequency is not None:
        if not isinstance(raw_frequency, str) or not raw_frequency.strip():
            problems.append(
                InputProblem(
                    f"{where}.frequency", _shown(raw_frequency), "expected text such as 'bid'"
                )
            )
        else:
            frequency = raw_frequency.strip()
            implied = FREQUENCY_WORDS.get(_key(frequency))
            known = ", ".join(sorted(FREQUENCY_WORDS))
            if implied is None and per_day is None:
                problems.append(
                    InputProblem(
                        f"{where}.frequency",
                        raw_frequency,
                        f"frequency not recognised (known: {known}); give per_day, "
                        "the number of administrations per day",
                    )
                )
            elif implied is not None and per_day is not None and implied != per_day:
                problems.append(
                    InputProblem(
                        f"{where}.per_day",
                        raw_per_day,
                        f"frequency '{frequency}' means {implied} per day, but per_day says "
                        f"{per_day}",
                    )
                )
            elif per_day is None:
                per_day = implied
    return per_day or 1, frequency

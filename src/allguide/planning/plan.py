"""The plan: plain, serialisable data produced by the engine (the JSON public contract).

Field order and list order are deterministic, so the same input and content version
give byte-identical JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from allguide.json_numbers import JsonNumber

SCHEMA_VERSION = "1.0"

Severity = Literal["critical", "warning", "info"]
PopulationName = Literal["infant", "child", "aya", "adult", "older_adult"]
PhaseName = Literal[
    "prephase", "induction", "cns", "consolidation", "maintenance", "transplant", "supportive"
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


OutT = TypeVar("OutT", bound=Out)
_REQUIRED = object()
# Model class → (field name, default or _REQUIRED, default factory) in declaration order.
_SPECS: dict[type[Out], tuple[tuple[str, Any, Callable[[], Any] | None], ...]] = {}


def _spec(cls: type[Out]) -> tuple[tuple[str, Any, Callable[[], Any] | None], ...]:
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = tuple(
            (
                name,
                _REQUIRED if field.is_required() else field.default,
                field.default_factory,  # type: ignore[misc]
            )
            for name, field in cls.model_fields.items()
        )
    return spec


def construct(cls: type[OutT], /, **fields: Any) -> OutT:
    """Build an output model WITHOUT validation (defaults are filled in).

    Only for the engine's own output: it fills these models from content and input that
    were validated on load, and re-validating ~170 of its own objects per plan was about
    a third of the plan time (`model_construct` is slower still: it handles aliases and
    private attributes these models do not have). Callers must pass the declared types
    (lists as lists, decimals as Decimal): `tests/planning/test_output_models.py`
    re-validates built plans and compares.
    """
    values: dict[str, Any] = {}
    for name, default, factory in _spec(cls):
        if name in fields:
            values[name] = fields[name]
        elif factory is not None:
            values[name] = factory()
        elif default is _REQUIRED:
            raise TypeError(f"{cls.__name__}: missing field {name!r}")
        else:
            values[name] = default
    if len(values) != len(fields) and not set(fields) <= set(values):
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(set(fields) - set(values))}")
    model = cls.__new__(cls)
    # what `BaseModel.model_construct` sets, minus its alias and private-attribute handling
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class Amount(Out):
    amount: JsonNumber | None
    unit: str


class DrugDose(Out):
    drug: str
    route: str
    dose: Amount | None = Field(description="None when not computed: see not_computed_reason")
    per: Literal["administration", "day"] = "administration"
    divided_doses: int = 1
    per_divided_dose: JsonNumber | None = None
    basis: str
    rounding: str | None = None
    cap_applied: bool = False
    uncapped_dose: JsonNumber | None = None
    cap: Amount | None = None
    days: list[int]
    schedule: str | None = None
    condition: str | None = None
    not_computed_reason: str | None = None
    citations: list[str] = Field(default_factory=list)


class RegimenOption(Out):
    regimen_id: str
    name: str
    phase: PhaseName
    preferred: bool
    why: str
    review_status: str
    drugs: list[DrugDose]
    excluded_lines: list[str] = Field(
        default_factory=list, description="Lines of the regimen that do not apply, with reason"
    )
    citations: list[str]


class Recommendation(Out):
    id: str
    statement_id: str
    title: str
    text: str
    plain_text: str
    drugs: list[str] = Field(default_factory=list)
    rule: str
    because: list[str]
    citations: list[str]
    review_status: str


class PhasePlan(Out):
    phase: PhaseName
    recommendations: list[Recommendation] = Field(default_factory=list)
    regimen_options: list[RegimenOption] = Field(default_factory=list)


RiskScheme = Literal["NCI", "COG", "Interfant", "adult"]
RiskStatus = Literal["determined", "provisional", "undetermined"]


class RiskEntry(Out):
    scheme: RiskScheme
    group: str
    status: RiskStatus
    because: list[str]
    needs: list[str] = Field(default_factory=list)
    citations: list[str]


class MissingData(Out):
    field: str
    why: str


class Tki(Out):
    indicated: bool | None
    preferred: list[str]
    alternatives: list[str]
    because: list[str]
    citations: list[str]


class Transplant(Out):
    recommendation: Literal["recommend", "consider", "not_indicated", "undetermined"]
    because: list[str]
    citations: list[str]


class Alert(Out):
    severity: Severity
    code: str
    message: str
    rule: str
    citations: list[str]


class MrdTimepointPlan(Out):
    timepoint: str
    when: str
    why: str
    result_percent: JsonNumber | None
    citations: list[str]


class BsaOut(Out):
    value_m2: JsonNumber
    formula: str
    height_cm: JsonNumber
    weight_kg: JsonNumber


class CalendarItem(Out):
    regimen_id: str
    drug: str
    route: str
    dose: Amount | None
    note: str | None = None


class CalendarDay(Out):
    day: int
    date: dt.date | None
    items: list[CalendarItem]


class ReferenceOut(Out):
    n: int
    id: str
    citation: str
    url: str | None


class ReviewSummary(Out):
    status: str = Field(description="'approved' only when every item used is approved")
    counts: dict[str, int]
    last_updated: dt.date | None


class Plan(Out):
    schema_version: str = SCHEMA_VERSION
    engine_version: str
    content_version: str
    input_digest: str
    population: PopulationName
    age_years: JsonNumber
    fitness: Literal["fit", "unfit", "unknown", "not_applicable"]
    ph_status: Literal["positive", "negative", "unknown"]
    bsa_m2: JsonNumber | None
    bsa: BsaOut | None
    risk: list[RiskEntry]
    missing_data: list[MissingData]
    alerts: list[Alert]
    phases: list[PhasePlan]
    tki: Tki
    transplant: Transplant
    mrd_timepoints: list[MrdTimepointPlan]
    start_date: dt.date | None
    calendar: list[CalendarDay]
    references: list[ReferenceOut]
    review: ReviewSummary
    disclaimer: str

"""The plan: plain, serialisable data produced by the engine (the JSON public contract).

Field order and list order are deterministic, so the same input and content version
give byte-identical JSON.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

Severity = Literal["critical", "warning", "info"]
PopulationName = Literal["infant", "child", "aya", "adult", "older_adult"]
PhaseName = Literal[
    "prephase", "induction", "cns", "consolidation", "maintenance", "transplant", "supportive"
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Amount(Out):
    amount: Decimal | None
    unit: str


class DrugDose(Out):
    drug: str
    route: str
    dose: Amount | None = Field(description="None when not computed: see not_computed_reason")
    per: Literal["administration", "day"] = "administration"
    divided_doses: int = 1
    per_divided_dose: Decimal | None = None
    basis: str
    rounding: str | None = None
    cap_applied: bool = False
    uncapped_dose: Decimal | None = None
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
    result_percent: Decimal | None
    citations: list[str]


class BsaOut(Out):
    value_m2: Decimal
    formula: str
    height_cm: Decimal
    weight_kg: Decimal


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
    age_years: Decimal
    fitness: Literal["fit", "unfit", "unknown", "not_applicable"]
    ph_status: Literal["positive", "negative", "unknown"]
    bsa_m2: Decimal | None
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

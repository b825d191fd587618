"""The FHIR mapping table (`mapping.yaml`), loaded once and checked by pydantic.

The table is data: codes, displays, where each code was verified, and unit factors. The
intake, the plan-to-FHIR output and the order reader look codes up here; the docs page
`docs/fhir-mapping.md` is generated from the same table.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from allguide.knowledge.schemas import DoseUnit, Route


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeSystem(_Strict):
    url: str
    name: str


class CodeRef(_Strict):
    """One code of a code system, with the public source it was checked against."""

    system: str
    code: str
    display: str
    source: str


class UnitRule(_Strict):
    codes: list[str] = Field(min_length=1, description="UCUM code first, then accepted spellings")
    factor: Decimal | None = None
    divide_by: Decimal | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_conversion(self) -> UnitRule:
        if (self.factor is None) == (self.divide_by is None):
            raise ValueError("give exactly one of factor or divide_by")
        return self

    def convert(self, value: Decimal) -> Decimal:
        if self.factor is not None:
            return value * self.factor
        assert self.divide_by is not None
        return value / self.divide_by

    @property
    def identity(self) -> bool:
        return self.factor == 1

    def describe(self) -> str:
        if self.factor is not None:
            return "as given" if self.factor == 1 else f"× {self.factor}"
        return f"÷ {self.divide_by}"


class QuantityRule(_Strict):
    field: str
    label: str
    unit: str
    quantum: Decimal
    pick: Literal["latest", "presenting"]
    integer: bool = False
    codes: list[CodeRef] = Field(min_length=1)
    units: list[UnitRule] = Field(min_length=1)

    def unit_rule(self, code: str | None, text: str | None) -> UnitRule | None:
        """Match a Quantity's UCUM code first, then its unit text (case-insensitive).
        A quantity without any unit matches only a rule that lists "" (a pure number)."""
        if not code and not text:
            return next((rule for rule in self.units if "" in rule.codes), None)
        for candidate in (code, text):
            if candidate is None:
                continue
            for rule in self.units:
                if candidate in rule.codes:
                    return rule
            folded = candidate.strip().casefold()
            for rule in self.units:
                if folded in (c.casefold() for c in rule.codes):
                    return rule
        return None

    def expected_units(self) -> str:
        return ", ".join(repr(r.codes[0]) for r in self.units)

    def round(self, value: Decimal) -> Decimal:
        return tidy(value.quantize(self.quantum, ROUND_HALF_UP))


class ConditionCode(CodeRef):
    lineage: Literal["B", "T"] | None = None
    status: Literal["remission", "relapse"] | None = None
    bcr_abl1: Literal["positive"] | None = None
    genetic: str | None = Field(default=None, description="genetics-vocabulary term id")


class GeneticsRules(_Strict):
    observation_codes: list[CodeRef]
    component_codes: list[CodeRef]
    present_codes: list[CodeRef]
    present_words: list[str]
    absent_words: list[str]
    bcr_abl1_names: list[str]
    karyotype_names: list[str]


class MetaboliserWords(_Strict):
    normal: list[str]
    intermediate: list[str]
    poor: list[str]


class TextMatches(_Strict):
    g6pd_names: list[str]
    g6pd_deficient_words: list[str]
    g6pd_normal_words: list[str]
    tpmt_names: list[str]
    nudt15_names: list[str]
    metaboliser_words: MetaboliserWords
    mrd_names: list[str]
    down_syndrome_names: list[str]
    mrd_timepoint_extension: str


class AllergyRules(_Strict):
    asparaginase_products: list[str]
    ecoli_asparaginase_drugs: list[str]


class RouteCode(_Strict):
    route: Route
    system: str
    code: str
    display: str
    words: list[str]
    source: str


class DoseUnitCode(_Strict):
    unit: DoseUnit
    ucum: str
    codes: list[str]


class MedicationCode(CodeRef):
    drug: str


class MappingTable(_Strict):
    base_url: str
    systems: dict[str, CodeSystem]
    quantities: list[QuantityRule]
    conditions: list[ConditionCode]
    genetics: GeneticsRules
    text_matches: TextMatches
    allergy: AllergyRules
    routes: list[RouteCode]
    dose_units: list[DoseUnitCode]
    medications: list[MedicationCode]

    @model_validator(mode="after")
    def _known_systems(self) -> MappingTable:
        refs: list[CodeRef] = [
            *(c for q in self.quantities for c in q.codes),
            *self.conditions,
            *self.genetics.observation_codes,
            *self.genetics.component_codes,
            *self.genetics.present_codes,
            *self.medications,
        ]
        used = {r.system for r in refs} | {r.system for r in self.routes}
        unknown = sorted(used - set(self.systems))
        if unknown:
            raise ValueError(f"unknown code system key(s): {', '.join(unknown)}")
        return self

    # ------------------------------------------------------------------ lookups

    def url(self, system_key: str) -> str:
        return self.systems[system_key].url

    def system_key(self, url: str | None) -> str | None:
        if url is None:
            return None
        for key, system in self.systems.items():
            if system.url == url.rstrip("/"):
                return key
        return None

    def quantity_rule(self, system_url: str | None, code: str | None) -> QuantityRule | None:
        key = self.system_key(system_url)
        for rule in self.quantities:
            if any(c.system == key and c.code == code for c in rule.codes):
                return rule
        return None

    def condition(self, system_url: str | None, code: str | None) -> ConditionCode | None:
        key = self.system_key(system_url)
        if key is None or code is None:
            return None
        wanted = code.strip()
        if key == "icdo3" and "/" not in wanted:
            wanted += "/3"  # morphology without behaviour code: ALL is always /3
        for c in self.conditions:
            if c.system == key and c.code == wanted:
                return c
        return None

    def route_code(self, route: str) -> RouteCode:
        for r in self.routes:
            if r.route.value == route:
                return r
        raise KeyError(route)

    def dose_unit(self, unit: str) -> DoseUnitCode:
        for u in self.dose_units:
            if u.unit.value == unit:
                return u
        raise KeyError(unit)

    def medication_code(self, drug_id: str) -> MedicationCode | None:
        for m in self.medications:
            if m.drug == drug_id:
                return m
        return None

    @property
    def mrd_timepoint_url(self) -> str:
        return f"{self.base_url}/StructureDefinition/{self.text_matches.mrd_timepoint_extension}"


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (100.00 → 100, 82.50 → 82.5)."""
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


@cache
def mapping_table() -> MappingTable:
    text = files("allguide.fhir").joinpath("mapping.yaml").read_text(encoding="utf-8")
    return MappingTable.model_validate(yaml.safe_load(text))

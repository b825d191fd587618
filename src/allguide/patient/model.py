"""Patient input: the public contract for `allguide plan FILE`.

Every field except age may be absent, which means *unknown*, never *false*. Values are
checked for plausibility with messages that name the field, the value and what is
expected, and suggest a fix where the mistake is obvious (metres for centimetres,
cells/µL for ×10⁹/L).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from allguide.knowledge.schemas import Lineage

DAYS_PER_YEAR = Decimal("365.25")


def _case_insensitive(enum_cls: type[StrEnum]) -> BeforeValidator:
    """Accept 'b' for 'B' and 'Positive' for 'positive'; anything else fails as usual."""

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            for member in enum_cls:
                if member.value.lower() == value.strip().lower():
                    return member.value
        return value

    return BeforeValidator(fix)


class Sex(StrEnum):
    female = "female"
    male = "male"


class BcrAbl1(StrEnum):
    positive = "positive"
    negative = "negative"
    unknown = "unknown"


class CnsStatus(StrEnum):
    CNS1 = "CNS1"
    CNS2 = "CNS2"
    CNS3 = "CNS3"


class PrednisoneResponse(StrEnum):
    good = "good"
    poor = "poor"


class InductionOutcome(StrEnum):
    complete_remission = "complete_remission"
    induction_failure = "induction_failure"
    pending = "pending"


class Remission(StrEnum):
    CR1 = "CR1"
    CR2 = "CR2"
    CR3 = "CR3"


class Metaboliser(StrEnum):
    normal = "normal"
    intermediate = "intermediate"
    poor = "poor"


class MrdTimepoint(StrEnum):
    day8_blood = "day8_blood"
    day15_marrow = "day15_marrow"
    end_of_induction = "end_of_induction"
    day78_marrow = "day78_marrow"
    end_of_consolidation = "end_of_consolidation"
    pre_transplant = "pre_transplant"


class MrdMethod(StrEnum):
    flow = "flow"
    pcr = "pcr"
    ngs = "ngs"


class MrdResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timepoint: Annotated[MrdTimepoint, _case_insensitive(MrdTimepoint)]
    value_percent: Decimal
    method: Annotated[MrdMethod, _case_insensitive(MrdMethod)] | None = None

    @field_validator("value_percent")
    @classmethod
    def _percent(cls, v: Decimal) -> Decimal:
        if v < 0 or v > 100:
            raise ValueError("expected MRD as a percentage of cells, 0 to 100 (e.g. 0.01 for 10⁻⁴)")
        return v


def _range(
    v: Decimal | None, lo: Decimal, hi: Decimal, what: str, hint: str | None = None
) -> Decimal | None:
    if v is None:
        return v
    if v < lo or v > hi:
        msg = f"expected {what} between {lo} and {hi}"
        raise ValueError(f"{msg}; {hint}" if hint else msg)
    return v


class PatientInput(BaseModel):
    """A newly diagnosed patient's findings. Absent fields are unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    age_years: Decimal | None = Field(default=None, description="Age at diagnosis in years")
    birth_date: dt.date | None = Field(
        default=None,
        description="Date of birth, YYYY-MM-DD (with diagnosis_date, instead of age_years)",
    )
    diagnosis_date: dt.date | None = Field(
        default=None, description="Date of diagnosis, YYYY-MM-DD"
    )
    sex: Annotated[Sex, _case_insensitive(Sex)] | None = Field(
        default=None, description="female or male"
    )
    weight_kg: Decimal | None = Field(
        default=None, description="Body weight in kilograms (0.4–350)"
    )
    height_cm: Decimal | None = Field(
        default=None,
        description="Height in centimetres (30–250); metres are rejected with a suggestion",
    )
    lineage: Annotated[Lineage, _case_insensitive(Lineage)] | None = Field(
        default=None, description="Immunophenotype lineage: B or T"
    )
    etp: bool | None = Field(default=None, description="Early T-cell precursor phenotype")
    wbc_x10e9_per_l: Decimal | None = Field(
        default=None, description="Presenting white-cell count in ×10⁹/L (= thousands per µL)"
    )
    bcr_abl1: Annotated[BcrAbl1, _case_insensitive(BcrAbl1)] | None = Field(
        default=None, description="BCR::ABL1 (Philadelphia chromosome) result"
    )
    genetics: list[str] | None = Field(
        default=None, description="Terms from the documented vocabulary (content/genetics.yaml)"
    )
    modal_chromosome_number: int | None = Field(
        default=None, description="Modal chromosome number from the karyotype (20–100)"
    )
    abl1_mutations: list[str] | None = Field(default=None, description="e.g. ['T315I']")
    cns_status: Annotated[CnsStatus, _case_insensitive(CnsStatus)] | None = Field(
        default=None, description="CNS status from the diagnostic lumbar puncture"
    )
    testicular_involvement: bool | None = Field(
        default=None, description="Overt testicular leukemia at diagnosis"
    )
    down_syndrome: bool | None = Field(
        default=None, description="Down syndrome (trisomy 21, constitutional)"
    )
    ecog: int | None = Field(default=None, description="ECOG performance status, 0–4")
    fit_for_intensive: bool | None = Field(
        default=None, description="Clinician's judgement of fitness for intensive chemotherapy"
    )
    comorbidities: list[str] | None = Field(
        default=None, description="Free-text list of relevant comorbidities"
    )
    cd20_percent: Decimal | None = Field(
        default=None, description="Percentage of blasts expressing CD20 (0–100)"
    )
    prednisone_response: (
        Annotated[PrednisoneResponse, _case_insensitive(PrednisoneResponse)] | None
    ) = Field(
        default=None,
        description="BFM prednisone response on day 8 (good: <1 ×10⁹/L blasts in blood)",
    )
    mrd: list[MrdResult] | None = Field(
        default=None, description="MRD results: list of {timepoint, value_percent, method}"
    )
    induction_outcome: Annotated[InductionOutcome, _case_insensitive(InductionOutcome)] | None = (
        Field(default=None, description="Result of induction")
    )
    days_to_complete_remission: int | None = Field(
        default=None, description="Days from start of induction to complete remission"
    )
    remission: Annotated[Remission, _case_insensitive(Remission)] | None = Field(
        default=None, description="Current remission number"
    )
    asparaginase_hypersensitivity: bool | None = Field(
        default=None, description="Clinical hypersensitivity to an E. coli-derived asparaginase"
    )
    g6pd_deficiency: bool | None = Field(
        default=None, description="G6PD deficiency (rasburicase is contraindicated)"
    )
    lvef_percent: Decimal | None = Field(
        default=None, description="Left-ventricular ejection fraction in percent (5–90)"
    )
    creatinine_clearance_ml_min: Decimal | None = Field(
        default=None, description="Creatinine clearance in mL/min"
    )
    total_bilirubin_mg_dl: Decimal | None = Field(
        default=None, description="Total bilirubin in mg/dL"
    )
    tpmt: Annotated[Metaboliser, _case_insensitive(Metaboliser)] | None = Field(
        default=None, description="TPMT metaboliser phenotype (CPIC)"
    )
    nudt15: Annotated[Metaboliser, _case_insensitive(Metaboliser)] | None = Field(
        default=None, description="NUDT15 metaboliser phenotype (CPIC)"
    )
    # Used by the order checks (allguide check); see docs/order-checks.md.
    prior_anthracycline_mg_m2: Decimal | None = Field(
        default=None,
        description=(
            "Cumulative anthracycline already received, as doxorubicin-equivalent mg/m² "
            "(conversion factors: docs/order-checks.md)"
        ),
    )
    current_medications: list[str] | None = Field(
        default=None,
        description="Other medicines the patient takes now (content drug ids or names)",
    )
    asparaginase_reactions: list[str] | None = Field(
        default=None,
        description="Asparaginase products the patient had a hypersensitivity reaction to",
    )

    # ---------------------------------------------------------------- plausibility

    @field_validator("age_years")
    @classmethod
    def _age(cls, v: Decimal | None) -> Decimal | None:
        return _range(v, Decimal(0), Decimal(120), "age in years")

    @field_validator("weight_kg")
    @classmethod
    def _weight(cls, v: Decimal | None) -> Decimal | None:
        hint = None
        if v is not None and v > 350 and v / Decimal("2.2046") <= 350:
            hint = f"if this is pounds, enter {(v / Decimal('2.2046')).quantize(Decimal('0.1'))}"
        return _range(v, Decimal("0.4"), Decimal(350), "weight in kilograms", hint)

    @field_validator("height_cm")
    @classmethod
    def _height(cls, v: Decimal | None) -> Decimal | None:
        hint = None
        if v is not None and Decimal("0.3") <= v <= Decimal("2.5"):
            hint = f"it looks like metres: did you mean {(v * 100).normalize():f}?"
        return _range(v, Decimal(30), Decimal(250), "height in centimetres", hint)

    @field_validator("wbc_x10e9_per_l")
    @classmethod
    def _wbc(cls, v: Decimal | None) -> Decimal | None:
        hint = None
        if v is not None and v > 1000:
            hint = (
                "it looks like cells/µL: divide by 1,000 "
                f"(did you mean {(v / 1000).normalize():f}?)"
            )
        return _range(v, Decimal(0), Decimal(1000), "WBC in ×10⁹/L", hint)

    @field_validator("modal_chromosome_number")
    @classmethod
    def _modal(cls, v: int | None) -> int | None:
        if v is not None and not 20 <= v <= 100:
            raise ValueError("expected a modal chromosome number between 20 and 100")
        return v

    @field_validator("abl1_mutations")
    @classmethod
    def _mutations(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        out = []
        for m in v:
            norm = m.strip().upper()
            if not (
                len(norm) >= 3 and norm[0].isalpha() and norm[-1].isalpha() and norm[1:-1].isdigit()
            ):
                raise ValueError(f"'{m}' is not a protein change like T315I or E255K")
            out.append(norm)
        return sorted(set(out))

    @field_validator("ecog")
    @classmethod
    def _ecog(cls, v: int | None) -> int | None:
        if v is not None and not 0 <= v <= 4:
            raise ValueError("expected an ECOG performance status from 0 to 4")
        return v

    @field_validator("cd20_percent")
    @classmethod
    def _cd20(cls, v: Decimal | None) -> Decimal | None:
        return _range(v, Decimal(0), Decimal(100), "percentage of blasts expressing CD20")

    @field_validator("days_to_complete_remission")
    @classmethod
    def _days_to_cr(cls, v: int | None) -> int | None:
        if v is not None and not 1 <= v <= 365:
            raise ValueError("expected days from start of induction to remission, 1 to 365")
        return v

    @field_validator("lvef_percent")
    @classmethod
    def _lvef(cls, v: Decimal | None) -> Decimal | None:
        hint = None
        if v is not None and Decimal("0.05") <= v <= Decimal("0.9"):
            hint = f"it looks like a fraction: did you mean {(v * 100).normalize():f}?"
        return _range(v, Decimal(5), Decimal(90), "LVEF in percent", hint)

    @field_validator("creatinine_clearance_ml_min")
    @classmethod
    def _crcl(cls, v: Decimal | None) -> Decimal | None:
        return _range(v, Decimal(0), Decimal(300), "creatinine clearance in mL/min")

    @field_validator("total_bilirubin_mg_dl")
    @classmethod
    def _bili(cls, v: Decimal | None) -> Decimal | None:
        hint = None
        if v is not None and v > 50:
            hint = f"if this is µmol/L, enter {(v / Decimal('17.1')).quantize(Decimal('0.1'))}"
        return _range(v, Decimal(0), Decimal(50), "total bilirubin in mg/dL", hint)

    @field_validator("genetics", "comorbidities")
    @classmethod
    def _dedupe(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else sorted({s.strip() for s in v if s.strip()})

    @field_validator("prior_anthracycline_mg_m2")
    @classmethod
    def _prior_anthracycline(cls, v: Decimal | None) -> Decimal | None:
        return _range(
            v, Decimal(0), Decimal(1500), "cumulative doxorubicin-equivalent dose in mg/m²"
        )

    @field_validator("current_medications", "asparaginase_reactions")
    @classmethod
    def _medicine_names(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else sorted({s.strip() for s in v if s.strip()})

    @model_validator(mode="after")
    def _age_known(self) -> PatientInput:
        if self.birth_date and self.diagnosis_date and self.diagnosis_date < self.birth_date:
            raise ValueError("diagnosis_date is before birth_date")
        if self.age_years is None and not (self.birth_date and self.diagnosis_date):
            raise ValueError("age is required: give age_years, or birth_date and diagnosis_date")
        if self.age_years is not None and self.birth_date and self.diagnosis_date:
            derived = _age_from_dates(self.birth_date, self.diagnosis_date)
            if abs(derived - self.age_years) >= 1:
                raise ValueError(
                    f"age_years {self.age_years} does not match birth_date and "
                    f"diagnosis_date (which give {derived})"
                )
        if self.mrd:
            seen = [m.timepoint for m in self.mrd]
            dupes = sorted({t.value for t in seen if seen.count(t) > 1})
            if dupes:
                raise ValueError(f"mrd lists time point(s) more than once: {', '.join(dupes)}")
        return self

    # ---------------------------------------------------------------- derived facts

    @property
    def age(self) -> Decimal:
        """Age at diagnosis in years (two decimals when derived from dates)."""
        if self.age_years is not None:
            return self.age_years
        assert self.birth_date and self.diagnosis_date  # guaranteed by _age_known
        return _age_from_dates(self.birth_date, self.diagnosis_date)

    @property
    def age_months(self) -> Decimal:
        return (self.age * 12).quantize(Decimal("0.1"))

    def mrd_at(self, timepoint: MrdTimepoint) -> Decimal | None:
        for m in self.mrd or ():
            if m.timepoint == timepoint:
                return m.value_percent
        return None

    def has_genetic(self, term_id: str) -> bool | None:
        """True/False when genetics were reported; None (unknown) when they were not."""
        if self.genetics is None:
            return None
        return term_id in self.genetics


def _age_from_dates(birth: dt.date, diagnosis: dt.date) -> Decimal:
    return (Decimal((diagnosis - birth).days) / DAYS_PER_YEAR).quantize(Decimal("0.01"))

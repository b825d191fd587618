"""Content-pack schema: the data dictionary for everything under ``content/``.

These pydantic models are the single definition of the content format. Their JSON
Schema is exported to ``content/schemas/`` (``allguide content export-schemas``) and a
test fails when the committed files drift from the models.

Clinical numbers live in content files, never in code: every dose, cap, day and
threshold here is data with citations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

REF_ID = r"^ref\.[a-z0-9][a-z0-9.-]*$"
STATEMENT_ID = r"^stmt\.[a-z0-9_]+\.[a-z0-9_.-]+$"
REGIMEN_ID = r"^[a-z0-9][a-z0-9-]*$"
DRUG_ID = r"^[a-z][a-z0-9 ()-]*[a-z0-9)]$"
GLOSSARY_ID = r"^gloss\.[a-z0-9-]+$"
THRESHOLD_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"

RefId = Annotated[str, Field(pattern=REF_ID, description="Id of an item in references")]
StatementId = Annotated[str, Field(pattern=STATEMENT_ID)]
DrugId = Annotated[
    str, Field(pattern=DRUG_ID, description="Lowercase international non-proprietary name")
]


class Strict(BaseModel):
    """Base for content models: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(Strict):
    """A content item: every item kind has a stable id."""

    id: str


# --------------------------------------------------------------------------- enums


class ReviewStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    approved = "approved"
    retired = "retired"


class Population(StrEnum):
    """Age/fitness populations used to select content (boundaries are thresholds)."""

    infant = "infant"
    child = "child"
    aya = "aya"
    adult = "adult"
    older_adult = "older_adult"


class Lineage(StrEnum):
    B = "B"
    T = "T"


class PhStatus(StrEnum):
    positive = "positive"
    negative = "negative"


class Phase(StrEnum):
    prephase = "prephase"
    induction = "induction"
    cns = "cns"
    consolidation = "consolidation"
    maintenance = "maintenance"
    transplant = "transplant"
    supportive = "supportive"


class Route(StrEnum):
    iv = "iv"
    im = "im"
    sc = "sc"
    po = "po"
    intrathecal = "intrathecal"
    intraventricular = "intraventricular"  # via Ommaya reservoir


class ReferenceType(StrEnum):
    guideline = "guideline"
    trial = "trial"
    drug_label = "drug_label"
    review = "review"
    meta_analysis = "meta_analysis"
    cohort = "cohort"
    consensus = "consensus"
    patient_education = "patient_education"


class DoseUnit(StrEnum):
    mg = "mg"
    g = "g"
    mcg = "mcg"
    IU = "IU"  # international units (asparaginase products)
    mL = "mL"


class DoseBasis(StrEnum):
    per_m2 = "per_m2"  # amount × BSA
    per_kg = "per_kg"  # amount × weight
    flat = "flat"  # amount as written
    age_banded = "age_banded"  # amount picked from age_bands (intrathecal)


class RoundingMode(StrEnum):
    half_up = "half_up"
    down = "down"


class DrugGroup(StrEnum):
    """Drug groups the order checks reason about (see docs/order-checks.md)."""

    vinca_alkaloid = "vinca_alkaloid"
    anthracycline = "anthracycline"
    asparaginase_e_coli = "asparaginase_e_coli"  # E. coli-derived, native or pegylated
    asparaginase_erwinia = "asparaginase_erwinia"
    bcr_abl1_tki = "bcr_abl1_tki"
    thiopurine = "thiopurine"
    azole_antifungal = "azole_antifungal"
    strong_cyp3a4_inhibitor = "strong_cyp3a4_inhibitor"  # FDA classification
    proton_pump_inhibitor = "proton_pump_inhibitor"
    nsaid = "nsaid"
    antifolate_antibacterial = "antifolate_antibacterial"  # trimethoprim-containing


# --------------------------------------------------------------------------- shared parts


class Review(Strict):
    """Editorial provenance: only `approved` items are served as approved."""

    status: ReviewStatus
    authored_by: str = Field(min_length=1)
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None
    next_review: dt.date | None = None
    last_updated: dt.date


class Applicability(Strict):
    """Who an item applies to. An empty list means "any"."""

    populations: list[Population] = Field(default_factory=list)
    lineages: list[Lineage] = Field(default_factory=list)
    ph_status: list[PhStatus] = Field(default_factory=list)
    risk: list[str] = Field(
        default_factory=list,
        description="Free-text risk qualifiers, e.g. 'NCI standard risk', 'MRD-positive'",
    )


class Evidence(Strict):
    """Grading exactly as the cited source gives it (never invented)."""

    level: str | None = None
    strength: str | None = None
    grading_system: str | None = None


class Alternative(Strict):
    """Where sources disagree: the alternative view, recorded with its own citations."""

    text: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)


class Quantity(Strict):
    amount: Decimal = Field(gt=0)
    unit: DoseUnit


# --------------------------------------------------------------------------- item kinds


class Reference(Item):
    id: str = Field(pattern=REF_ID)
    type: ReferenceType
    title: str = Field(min_length=1)
    authors: str | None = Field(default=None, description="First author et al., or organisation")
    source: str = Field(min_length=1, description="Journal or organisation")
    year: int = Field(ge=1950, le=2100)
    citation_detail: str | None = Field(
        default=None, description="Volume(issue):pages or edition/version"
    )
    pmid: str | None = Field(default=None, pattern=r"^[0-9]{5,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.[0-9]{4,9}/\S+$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    note: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Reference:
        if not (self.pmid or self.doi or self.url):
            raise ValueError("a reference needs at least one of pmid, doi or url")
        return self


class Statement(Item):
    id: str = Field(pattern=STATEMENT_ID)
    topic: str = Field(pattern=r"^[a-z0-9_]+$", description="Matches the id's second part")
    section: str = Field(min_length=1, description="Heading the statement appears under")
    title: str = Field(min_length=1)
    applies_to: Applicability = Field(default_factory=Applicability)
    clinician_text: str = Field(min_length=1)
    plain_text: str = Field(min_length=1, description="Reading grade 8 or lower")
    evidence: Evidence | None = None
    citations: list[RefId] = Field(min_length=1)
    alternatives: list[Alternative] = Field(default_factory=list)
    corrects: str | None = Field(
        default=None, description="What a source document got wrong that this item corrects"
    )
    keywords: list[str] = Field(default_factory=list)
    review: Review

    @model_validator(mode="after")
    def _topic_matches_id(self) -> Statement:
        if self.id.split(".")[1] != self.topic:
            raise ValueError(f"topic '{self.topic}' does not match id '{self.id}'")
        return self


class RouteRestriction(Strict):
    route: Route
    reason: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)


class DoseLimit(Strict):
    """A hard per-administration ceiling that applies in every regimen."""

    max_single_dose: Quantity
    reason: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)


class DoseEquivalence(Strict):
    """How many mg of doxorubicin one mg of this drug counts as for cardiotoxicity."""

    factor: Decimal = Field(gt=0)
    citations: list[RefId] = Field(min_length=1)


class Drug(Item):
    id: str = Field(pattern=DRUG_ID)
    name: str = Field(min_length=1)
    brand_names: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(
        default_factory=list, description="Other names: US names, abbreviations (6-MP, TMP-SMX)"
    )
    drug_class: str = Field(min_length=1)
    routes: list[Route] = Field(min_length=1, description="Routes allowed")
    never_routes: list[RouteRestriction] = Field(default_factory=list)
    limits: list[DoseLimit] = Field(default_factory=list)
    groups: list[DrugGroup] = Field(
        default_factory=list, description="Groups used by the order checks"
    )
    doxorubicin_equivalence: DoseEquivalence | None = Field(
        default=None,
        description="Anthracyclines: factor converting mg of this drug to doxorubicin-equivalent",
    )
    notes: str | None = None
    plain_text: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)
    review: Review


class AgeBand(Strict):
    """Dose for ages in [min_age_years, max_age_years)."""

    min_age_years: Decimal = Field(ge=0)
    max_age_years: Decimal | None = Field(default=None, gt=0)
    amount: Decimal = Field(gt=0)


class Rounding(Strict):
    increment: Decimal = Field(gt=0)
    mode: RoundingMode = RoundingMode.half_up


class DoseSpec(Strict):
    """How to compute one administration's dose.

    The amount comes from `amount`, or from `age_bands` when given (for any basis: the
    band's amount is then scaled by the basis). `age_banded` is a flat amount by age band.
    """

    basis: DoseBasis
    amount: Decimal | None = Field(default=None, gt=0, description="Per m², per kg or flat")
    unit: DoseUnit
    age_bands: list[AgeBand] = Field(default_factory=list)
    cap: Quantity | None = Field(
        default=None, description="Maximum per administration (per day when per='day')"
    )
    rounding: Rounding | None = None
    per: Literal["administration", "day"] = Field(
        default="administration",
        description="'day' = amount is the daily total, split into divided_doses",
    )
    divided_doses: int = Field(default=1, ge=1, le=6)


class AppliesIf(Strict):
    """Structured condition for a drug line; unmet conditions drop the line from a plan."""

    min_age_years: Decimal | None = Field(default=None, ge=0)
    max_age_years: Decimal | None = Field(default=None, gt=0, description="Exclusive")
    min_weight_kg: Decimal | None = Field(default=None, gt=0)
    max_weight_kg: Decimal | None = Field(default=None, gt=0, description="Exclusive")
    cns_status: list[Literal["CNS1", "CNS2", "CNS3"]] = Field(default_factory=list)
    min_cd20_percent: Decimal | None = Field(default=None, ge=0, le=100)


class RegimenDrug(Strict):
    drug: str = Field(pattern=DRUG_ID)
    route: Route
    dose: DoseSpec | None = Field(
        default=None, description="None when no sourced dose exists: shown 'per protocol'"
    )
    days: list[int] = Field(min_length=1, description="Treatment days, day 1 = first day")
    schedule_text: str | None = Field(default=None, description="e.g. 'every 12 h × 6 doses'")
    applies_if: AppliesIf | None = None
    condition: str | None = Field(
        default=None, description="Human wording of applies_if, e.g. 'CD20 ≥20%', 'CNS3 only'"
    )
    notes: str | None = None
    citations: list[RefId] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)


class Regimen(Item):
    id: str = Field(pattern=REGIMEN_ID)
    name: str = Field(min_length=1)
    applies_to: Applicability = Field(default_factory=Applicability)
    phases: list[Phase] = Field(min_length=1)
    course: str | None = Field(default=None, description="e.g. 'course A', 'protocol IA'")
    cycle_length_days: int | None = Field(default=None, ge=1)
    summary: str = Field(min_length=1)
    plain_text: str = Field(min_length=1)
    drugs: list[RegimenDrug] = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)
    alternatives: list[Alternative] = Field(default_factory=list)
    review: Review


class GlossaryEntry(Item):
    id: str = Field(pattern=GLOSSARY_ID)
    term: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    definition: str = Field(min_length=1, description="Plain language, reading grade 8 or lower")
    citations: list[RefId] = Field(default_factory=list)
    review: Review


class Threshold(Item):
    """A cited decision cut-off used by the engine (age, WBC, MRD, ...)."""

    id: str = Field(pattern=THRESHOLD_ID)
    value: Decimal
    unit: str = Field(min_length=1)
    comparison: Literal[">=", ">", "<", "<="] = Field(
        description="How a patient value meets the threshold"
    )
    description: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)
    alternatives: list[Alternative] = Field(default_factory=list)


class GeneticRisk(StrEnum):
    favorable = "favorable"
    neutral = "neutral"
    unfavorable = "unfavorable"
    not_applicable = "not_applicable"


class GeneticTerm(Item):
    """One term of the documented genetics vocabulary for patient input."""

    id: str = Field(pattern=r"^[A-Za-z0-9_:]+$")
    label: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    lineage: Lineage | None = None
    pediatric_risk: GeneticRisk
    adult_risk: GeneticRisk
    description: str = Field(min_length=1)
    plain_text: str = Field(min_length=1)
    citations: list[RefId] = Field(min_length=1)


ARTICLE_ID = r"^[a-z0-9][a-z0-9-]*$"


class ArticleSection(Strict):
    """One section of a topic article: content items listed by id, shown in this order."""

    heading: str = Field(min_length=1)
    statements: list[StatementId] = Field(default_factory=list)
    regimens: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> ArticleSection:
        if not (self.statements or self.regimens):
            raise ValueError("a section lists at least one statement or regimen")
        return self


class ArticleVersion(Strict):
    """An article for one audience: its outline, never its text (text comes from items)."""

    title: str = Field(min_length=1)
    bottom_line: list[StatementId] = Field(
        min_length=1, description="Statements whose opening sentence is the bottom line"
    )
    sections: list[ArticleSection] = Field(min_length=1)
    glossary: list[str] = Field(
        default_factory=list, description="Glossary ids always listed (patient articles)"
    )


class ArticleOutline(Item):
    """A topic article (`allguide article ID`): which items it shows, per audience."""

    id: str = Field(pattern=ARTICLE_ID)
    title: str = Field(min_length=1)
    questions: list[str] = Field(
        default_factory=list, description="Typical ways readers ask for this article"
    )
    clinician: ArticleVersion
    patient: ArticleVersion


# --------------------------------------------------------------------------- file shapes


class ReferencesFile(Strict):
    references: list[Reference]


class StatementsFile(Strict):
    statements: list[Statement]


class DrugsFile(Strict):
    drugs: list[Drug]


class RegimensFile(Strict):
    regimens: list[Regimen]


class GlossaryFile(Strict):
    glossary: list[GlossaryEntry]


class ThresholdsFile(Strict):
    thresholds: list[Threshold]


class GeneticsFile(Strict):
    genetics: list[GeneticTerm]


class ArticlesFile(Strict):
    articles: list[ArticleOutline]


ITEM_MODELS: dict[str, type[Item]] = {
    "references": Reference,
    "statements": Statement,
    "drugs": Drug,
    "regimens": Regimen,
    "glossary": GlossaryEntry,
    "thresholds": Threshold,
    "genetics": GeneticTerm,
    "articles": ArticleOutline,
}

FILE_MODELS: dict[str, type[Strict]] = {
    "references": ReferencesFile,
    "statements": StatementsFile,
    "drugs": DrugsFile,
    "regimens": RegimensFile,
    "glossary": GlossaryFile,
    "thresholds": ThresholdsFile,
    "genetics": GeneticsFile,
    "articles": ArticlesFile,
}

"""Small, tolerant pydantic models of the FHIR R4 elements allguide reads.

EHRs send more than any one profile allows, so unknown elements are ignored (never an
error) and only the elements used here are typed. A resource whose *used* elements are
malformed (a number that is text, a list that is an object) is reported with the path of
the bad element and skipped; it is never guessed at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Coding(Tolerant):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Tolerant):
    coding: list[Coding] = Field(default_factory=list)
    text: str | None = None

    def words(self) -> list[str]:
        """Text and displays, the human-readable names of this concept."""
        out = [self.text] if self.text else []
        out += [c.display for c in self.coding if c.display]
        return out

    def has(self, system_url: str, code: str) -> bool:
        return any(c.system == system_url and c.code == code for c in self.coding)

    def describe(self) -> str:
        """Short label for messages: 'http://loinc.org 1234-5 (Display)' or the text."""
        for c in self.coding:
            if c.code:
                label = f"{_short_system(c.system)} {c.code}"
                name = c.display or self.text
                return f"{label} ({name})" if name else label
        return f"text '{self.text}'" if self.text else "(no code)"

    @property
    def empty(self) -> bool:
        return not self.text and not any(c.code for c in self.coding)


def _short_system(url: str | None) -> str:
    names = {
        "http://loinc.org": "LOINC",
        "http://snomed.info/sct": "SNOMED CT",
        "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
        "http://hl7.org/fhir/sid/icd-10": "ICD-10",
        "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICD-O-3",
        "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    }
    if url is None:
        return "(no system)"
    return names.get(url, url)


class Quantity(Tolerant):
    value: Decimal | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None
    comparator: str | None = None

    def describe(self) -> str:
        unit = self.code or self.unit or "(no unit)"
        return f"{_plain(self.value)} {unit}"


def _plain(value: Decimal | None) -> str:
    return "(no value)" if value is None else f"{value:f}"


class Reference(Tolerant):
    reference: str | None = None
    display: str | None = None


class Extension(Tolerant):
    url: str | None = None
    valueCode: str | None = None
    valueString: str | None = None


class Period(Tolerant):
    start: str | None = None
    end: str | None = None


class ObservationComponent(Tolerant):
    code: CodeableConcept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    valueBoolean: bool | None = None
    valueInteger: int | None = None


class Observation(Tolerant):
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    subject: Reference | None = None
    effectiveDateTime: str | None = None
    effectiveInstant: str | None = None
    effectivePeriod: Period | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    valueBoolean: bool | None = None
    valueInteger: int | None = None
    interpretation: list[CodeableConcept] = Field(default_factory=list)
    method: CodeableConcept | None = None
    component: list[ObservationComponent] = Field(default_factory=list)
    extension: list[Extension] = Field(default_factory=list)
    dataAbsentReason: CodeableConcept | None = None

    @property
    def effective(self) -> str | None:
        if self.effectiveDateTime:
            return self.effectiveDateTime
        if self.effectiveInstant:
            return self.effectiveInstant
        if self.effectivePeriod and self.effectivePeriod.start:
            return self.effectivePeriod.start
        return None

    @property
    def effective_path(self) -> str:
        if self.effectiveDateTime:
            return "effectiveDateTime"
        if self.effectiveInstant:
            return "effectiveInstant"
        return "effectivePeriod.start"

    @property
    def has_value(self) -> bool:
        return any(
            v is not None
            for v in (
                self.valueQuantity,
                self.valueCodeableConcept,
                self.valueString,
                self.valueBoolean,
                self.valueInteger,
            )
        )


class Patient(Tolerant):
    id: str | None = None
    gender: str | None = None
    birthDate: str | None = None


class Condition(Tolerant):
    id: str | None = None
    code: CodeableConcept | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    subject: Reference | None = None
    onsetDateTime: str | None = None
    onsetPeriod: Period | None = None
    recordedDate: str | None = None


class AllergyReaction(Tolerant):
    substance: CodeableConcept | None = None


class AllergyIntolerance(Tolerant):
    id: str | None = None
    code: CodeableConcept | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    patient: Reference | None = None
    reaction: list[AllergyReaction] = Field(default_factory=list)


class Duration(Tolerant):
    value: Decimal | None = None
    unit: str | None = None
    code: str | None = None


class TimingRepeat(Tolerant):
    boundsPeriod: Period | None = None
    boundsDuration: Duration | None = None
    count: int | None = None
    frequency: int | None = None
    period: Decimal | None = None
    periodUnit: str | None = None


class Timing(Tolerant):
    extension: list[Extension] = Field(default_factory=list)
    event: list[str] = Field(default_factory=list)
    repeat: TimingRepeat | None = None
    code: CodeableConcept | None = None


class DoseAndRate(Tolerant):
    doseQuantity: Quantity | None = None


class Dosage(Tolerant):
    text: str | None = None
    timing: Timing | None = None
    route: CodeableConcept | None = None
    doseAndRate: list[DoseAndRate] = Field(default_factory=list)


class MedicationRequest(Tolerant):
    id: str | None = None
    status: str | None = None
    intent: str | None = None
    subject: Reference | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    dosageInstruction: list[Dosage] = Field(default_factory=list)
    extension: list[Extension] = Field(default_factory=list)


class MedicationStatement(Tolerant):
    id: str | None = None
    status: str | None = None
    subject: Reference | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True)
class RawResource:
    """One resource as received, with a stable label for messages."""

    label: str  # "Observation/wbc-1", or "Observation[entry 3]" when it has no id
    type: str
    data: dict[str, Any]
    full_url: str | None = None


def flatten(source: Any) -> tuple[list[RawResource], list[tuple[str, str]]]:
    """Resources from a Bundle, a resource, or a list of either (nested Bundles included).

    Returns the resources and (where, message) for entries that are not resources.
    """
    out: list[RawResource] = []
    bad: list[tuple[str, str]] = []
    counter = [0]

    def visit(item: Any, where: str, full_url: str | None) -> None:
        if not isinstance(item, dict):
            bad.append((where, f"expected a FHIR resource (a JSON object), got {_kind(item)}"))
            return
        rtype = item.get("resourceType")
        if not isinstance(rtype, str) or not rtype:
            bad.append((where, "has no resourceType"))
            return
        if rtype == "Bundle":
            entries = item.get("entry", [])
            if not isinstance(entries, list):
                bad.append((f"{where}.entry", f"expected a list, got {_kind(entries)}"))
                return
            for i, entry in enumerate(entries):
                if not isinstance(entry, dict) or "resource" not in entry:
                    bad.append((f"{where}.entry[{i}]", "entry has no resource"))
                    continue
                url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
                visit(entry["resource"], f"{where}.entry[{i}].resource", url)
            return
        counter[0] += 1
        rid = item.get("id")
        label = f"{rtype}/{rid}" if isinstance(rid, str) and rid else f"{rtype}[{where}]"
        out.append(RawResource(label=label, type=rtype, data=item, full_url=full_url))

    if isinstance(source, list):
        for i, item in enumerate(source):
            visit(item, f"[{i}]", None)
    else:
        visit(source, "Bundle", None)
    return out, bad


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


# --------------------------------------------------------------------------- dates

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class When:
    """A FHIR date or dateTime: the day, and the instant when a time was given."""

    day: dt.date
    instant: dt.datetime | None = None

    def clearly_after(self, other: When) -> bool:
        """True when self is certainly later: a later day, or both timed and later."""
        if self.day != other.day:
            return self.day > other.day
        return (
            self.instant is not None
            and other.instant is not None
            and (self.instant > other.instant)
        )

    def sort_key(self) -> tuple[dt.date, dt.datetime]:
        """Untimed values sort before timed ones on the same day."""
        return (self.day, self.instant or _DAWN)

    def __str__(self) -> str:
        return self.instant.isoformat() if self.instant else self.day.isoformat()


_DAWN = dt.datetime.min.replace(tzinfo=dt.UTC)


def parse_when(text: str | None) -> When | None:
    """Parse a full FHIR date or dateTime; partial dates (YYYY, YYYY-MM) give None."""
    if not text:
        return None
    m = _DATE.match(text)
    if m:
        if m.group(3) is None:
            return None
        try:
            return When(dt.date.fromisoformat(text))
        except ValueError:
            return None
    try:
        instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return When(instant.date(), instant.astimezone(dt.UTC))


def is_partial_date(text: str) -> bool:
    m = _DATE.match(text)
    return m is not None and m.group(3) is None


def iter_codings(concepts: list[CodeableConcept]) -> Iterator[Coding]:
    for concept in concepts:
        yield from concept.coding

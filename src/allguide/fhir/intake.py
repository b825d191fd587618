"""FHIR R4 resources → the core's patient input (`PatientInput`).

Reads Patient, Observation, Condition and AllergyIntolerance through the mapping table
(`mapping.yaml`, documented in docs/fhir-mapping.md). Rules:

- Nothing is dropped silently: every resource or code that is not used is reported
  ("not used: ..."), with the reason when there is one.
- Repeated measurements: the most recent wins only when it is clearly later (a later
  day, or a later time on the same day); otherwise differing values are a conflict,
  reported with both values, and the field stays unknown. The presenting white-cell
  count is the one closest to the diagnosis date, not the latest.
- Wrong units are errors naming the resource, the path, the value and the units expected.
- The mapped values then go through `parse_patient`, so the core's plausibility checks
  apply; their problems are reported against the resource each value came from.

Pure: no network, no clock (today's date is an argument, used for age when the diagnosis
date is unknown and to refuse results dated in the future).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from allguide.fhir.mapping import MappingTable, QuantityRule, mapping_table, tidy
from allguide.fhir.names import drug_for, finding_names, mentions, norm, words_equal
from allguide.fhir.resources import (
    AllergyIntolerance,
    CodeableConcept,
    Condition,
    MedicationRequest,
    MedicationStatement,
    Observation,
    Patient,
    RawResource,
    Reference,
    Tolerant,
    When,
    flatten,
    is_partial_date,
    parse_when,
)
from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import InputError, parse_patient
from allguide.patient.model import DAYS_PER_YEAR, MrdMethod, MrdTimepoint, PatientInput

Severity = Literal["error", "warning", "info"]
READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "MedicationRequest",
)
# Statuses that make a medicine "current" (an input of the interaction checks).
_CURRENT_STATUS = {
    "MedicationRequest": {"active", "on-hold"},
    "MedicationStatement": {"active", "intended"},
}


class FhirProblem(BaseModel):
    """Something about the FHIR input that a clinician or integrator should know.

    error: the value could not be used safely (wrong unit, conflict, unreadable);
    warning: used with a caveat, or not used for a reason worth fixing (missing code);
    info: not used by allguide (unmapped code, excluded status) — listed so nothing is
    dropped silently.
    """

    model_config = ConfigDict(frozen=True)

    severity: Severity
    resource: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.resource}.{self.path}" if self.path else self.resource
        return f"{self.severity}: {where}: {self.message}"


class UsedValue(BaseModel):
    """One patient-input field and the FHIR element it came from."""

    model_config = ConfigDict(frozen=True)

    field: str
    value: str
    resource: str
    path: str
    note: str | None = None

    def __str__(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return f"{self.field} = {self.value} ← {self.resource}.{self.path}{note}"


class FhirIntake(BaseModel):
    """Result of reading FHIR resources: the patient (None when it could not be built),
    the mapped field values, every problem, and where each used value came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    patient: PatientInput | None
    data: dict[str, Any]
    problems: list[FhirProblem]
    used: list[UsedValue]

    @property
    def errors(self) -> list[FhirProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        """A patient was built and no value had to be refused."""
        return self.patient is not None and not self.errors


def patient_from_fhir(bundle_or_resources: Any, pack: ContentPack, *, today: dt.date) -> FhirIntake:
    """Map a Bundle, a resource, or a list of them to a `FhirIntake`."""
    return _Intake(pack, today).run(bundle_or_resources)


# --------------------------------------------------------------------------- internals

T = TypeVar("T", bound=Tolerant)


@dataclass(frozen=True)
class _Candidate:
    """One value for one patient field, from one FHIR element."""

    value: Any
    resource: str
    path: str
    when: When | None
    shown: str
    note: str | None = None


_EXCLUDED_OBS_STATUS = {"entered-in-error", "cancelled"}
_EXCLUDED_VERIFICATION = {"refuted", "entered-in-error"}
_UNCONFIRMED = {"provisional", "differential", "unconfirmed"}


class _Intake:
    def __init__(self, pack: ContentPack, today: dt.date) -> None:
        self.pack = pack
        self.today = today
        self.table: MappingTable = mapping_table()
        self.problems: list[FhirProblem] = []
        self.candidates: dict[str, list[_Candidate]] = {}
        self.lists: dict[str, list[_Candidate]] = {}
        self.genetics: dict[str, list[tuple[bool, _Candidate]]] = {}
        self.mrd: list[tuple[MrdTimepoint, Decimal, MrdMethod | None, _Candidate]] = []
        self.diagnoses: list[_Candidate] = []  # value = diagnosis date (or None)
        self.patient_keys: set[str] = set()
        self.patient_label: str | None = None
        self.age_reported = False  # an error already explains why age is unknown

    # ------------------------------------------------------------------ helpers

    def problem(self, severity: Severity, resource: str, path: str, message: str) -> None:
        self.problems.append(
            FhirProblem(severity=severity, resource=resource, path=path, message=message)
        )

    def add(self, field: str, cand: _Candidate) -> None:
        self.candidates.setdefault(field, []).append(cand)

    def add_to_list(self, field: str, cand: _Candidate) -> None:
        """A value of a list field (every source adds to the list, none conflicts)."""
        self.lists.setdefault(field, []).append(cand)

    def parse(self, raw: RawResource, model: type[T]) -> T | None:
        try:
            return model.model_validate(raw.data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                self.problem(
                    "error",
                    raw.label,
                    path,
                    f"cannot read {_short(err['input'])}: {err['msg']}; resource not used",
                )
            return None

    def for_other_patient(self, raw: RawResource, ref: Reference | None, path: str) -> bool:
        """True (and an error) when the resource names a patient other than the bundle's."""
        if ref is None or not ref.reference or not self.patient_keys:
            return False
        target = ref.reference
        if any(target == key or target.endswith("/" + key) for key in self.patient_keys):
            return False
        self.problem(
            "error",
            raw.label,
            f"{path}.reference",
            f"refers to {target}, not to {self.patient_label}: resource for another patient, "
            "not used",
        )
        return True

    def when_of(self, raw: RawResource, text: str | None, path: str) -> tuple[When | None, bool]:
        """Parse a date; returns (when, usable). Future dates are refused."""
        if not text:
            return None, True
        when = parse_when(text)
        if when is None:
            self.problem(
                "warning",
                raw.label,
                path,
                f"'{text}' is not a full date (YYYY-MM-DD); the value is used without a date",
            )
            return None, True
        if when.day > self.today:
            self.problem(
                "warning",
                raw.label,
                path,
                f"dated {when.day.isoformat()}, after today ({self.today.isoformat()}); not used",
            )
            return when, False
        return when, True

    # ------------------------------------------------------------------ run

    def run(self, source: Any) -> FhirIntake:
        raws, bad = flatten(source)
        for where, message in bad:
            self.problem("error", "Bundle", where, message)
        if not raws and not bad:
            self.problem("error", "Bundle", "entry", "no resources found")
        raws = self._dedupe(raws)
        self._patients([r for r in raws if r.type == "Patient"])
        handlers: dict[str, Callable[[RawResource], None]] = {
            "Observation": self._observation,
            "Condition": self._condition,
            "AllergyIntolerance": self._allergy,
            "MedicationRequest": self._medication,
            "MedicationStatement": self._medication,
        }
        for raw in raws:
            if raw.type == "Patient":
                continue
            handler = handlers.get(raw.type)
            if handler is None:
                self.problem(
                    "info",
                    raw.label,
                    "",
                    f"not used: allguide reads {', '.join(READ_TYPES)} for a patient, "
                    f"not {raw.type}",
                )
            else:
                handler(raw)
        return self._build()

    def _dedupe(self, raws: list[RawResource]) -> list[RawResource]:
        seen: dict[str, RawResource] = {}
        out: list[RawResource] = []
        for raw in raws:
            if "[" not in raw.label and raw.label in seen:
                same = seen[raw.label].data == raw.data
                self.problem(
                    "info" if same else "error",
                    raw.label,
                    "",
                    "appears twice; the copy is ignored"
                    if same
                    else "appears twice with different content; only the first copy is used",
                )
                continue
            seen[raw.label] = raw
            out.append(raw)
        return out

    # ------------------------------------------------------------------ Patient

    def _patients(self, raws: list[RawResource]) -> None:
        if not raws:
            self.age_reported = True
            self.problem(
                "error", "Bundle", "entry", "no Patient resource: age and sex cannot be read"
            )
            return
        if len(raws) > 1:
            self.problem(
                "warning",
                "Bundle",
                "entry",
                f"{len(raws)} Patient resources ({', '.join(r.label for r in raws)}); "
                "their values must agree",
            )
        for raw in raws:
            patient = self.parse(raw, Patient)
            if patient is None:
                continue
            self.patient_label = self.patient_label or raw.label
            if patient.id:
                self.patient_keys |= {f"Patient/{patient.id}", patient.id}
            if raw.full_url:
                self.patient_keys.add(raw.full_url)
            self._patient(raw, patient)

    def _patient(self, raw: RawResource, patient: Patient) -> None:
        if patient.gender in ("female", "male"):
            self.add("sex", _Candidate(patient.gender, raw.label, "gender", None, patient.gender))
        elif patient.gender:
            self.problem(
                "info",
                raw.label,
                "gender",
                f"'{patient.gender}' is not used (the dosing and risk rules use female or "
                "male); sex stays unknown",
            )
        if not patient.birthDate or is_partial_date(patient.birthDate):
            self.age_reported = True
        if not patient.birthDate:
            self.problem("error", raw.label, "birthDate", "missing: age cannot be computed")
        elif is_partial_date(patient.birthDate):
            self.problem(
                "error",
                raw.label,
                "birthDate",
                f"'{patient.birthDate}' is only a year or month; a full date (YYYY-MM-DD) is "
                "needed to compute age",
            )
        else:
            when = parse_when(patient.birthDate)
            if when is None or when.instant is not None:
                self.age_reported = True
                self.problem(
                    "error",
                    raw.label,
                    "birthDate",
                    f"'{patient.birthDate}' is not a date; expected YYYY-MM-DD",
                )
            else:
                self.add(
                    "birth_date",
                    _Candidate(when.day, raw.label, "birthDate", None, when.day.isoformat()),
                )

    # ------------------------------------------------------------------ Observation

    def _observation(self, raw: RawResource) -> None:
        obs = self.parse(raw, Observation)
        if obs is None:
            return
        if obs.status in _EXCLUDED_OBS_STATUS:
            self.problem("info", raw.label, "status", f"status '{obs.status}': not used")
            return
        if self.for_other_patient(raw, obs.subject, "subject"):
            return
        if obs.code is None or obs.code.empty:
            self.problem(
                "warning", raw.label, "code", "has no code: not used (see docs/fhir-mapping.md)"
            )
            return
        when, usable = self.when_of(raw, obs.effective, obs.effective_path)
        if not usable:
            return
        for coding in obs.code.coding:
            rule = self.table.quantity_rule(coding.system, coding.code)
            if rule is not None:
                self._quantity(raw, obs, rule, when)
                return
        if self._genetic(raw, obs, when) or self._by_text(raw, obs, when):
            return
        self._unmapped(raw, obs.code, "code")

    def _unmapped(self, raw: RawResource, code: CodeableConcept, path: str) -> None:
        coded = [c for c in code.coding if c.code]
        if coded and all(not c.system for c in coded):
            self.problem(
                "warning",
                raw.label,
                f"{path}.coding",
                f"code {coded[0].code} has no system (e.g. http://loinc.org): not used",
            )
        elif not coded:
            self.problem(
                "warning",
                raw.label,
                path,
                f"has no coded value, only text '{code.text}': not used "
                "(codes allguide reads: docs/fhir-mapping.md)",
            )
        else:
            self.problem("info", raw.label, path, f"not used: {code.describe()}")

    def _quantity(
        self, raw: RawResource, obs: Observation, rule: QuantityRule, when: When | None
    ) -> None:
        code = obs.code.describe() if obs.code else ""
        q = obs.valueQuantity
        if q is None:
            if rule.integer and obs.valueInteger is not None:
                self.add(
                    rule.field,
                    _Candidate(
                        obs.valueInteger,
                        raw.label,
                        "valueInteger",
                        when,
                        f"{obs.valueInteger}",
                        code,
                    ),
                )
                return
            if not obs.has_value:
                reason = f" ({obs.dataAbsentReason.describe()})" if obs.dataAbsentReason else ""
                self.problem(
                    "info", raw.label, "value[x]", f"{rule.label} has no value{reason}: not used"
                )
                return
            self.problem(
                "error",
                raw.label,
                "value[x]",
                f"{rule.label} must be a valueQuantity in {rule.expected_units()}; "
                f"got {_value_kind(obs)}: not used",
            )
            return
        if q.value is None:
            self.problem("info", raw.label, "valueQuantity.value", f"{rule.label} has no value")
            return
        if q.comparator:
            self.problem(
                "warning",
                raw.label,
                "valueQuantity.comparator",
                f"{rule.label} is '{q.comparator}{q.value:f}', not an exact value: not used",
            )
            return
        unit = rule.unit_rule(q.code, q.unit)
        if unit is None:
            self.problem(
                "error",
                raw.label,
                "valueQuantity.code" if q.code else "valueQuantity.unit",
                f"{rule.label} {q.describe()}: '{q.code or q.unit or '(no unit)'}' is not a unit "
                f"of {rule.label}; expected one of {rule.expected_units()}",
            )
            return
        value = tidy(q.value) if unit.identity else rule.round(unit.convert(q.value))
        if rule.integer and value != value.to_integral_value():
            self.problem(
                "error",
                raw.label,
                "valueQuantity.value",
                f"{rule.label} {q.value:f} is not a whole number",
            )
            return
        number: Decimal | int = int(value) if rule.integer else value
        shown = f"{value:f}"
        note = code if unit.identity else f"{q.describe()} {unit.describe()}; {code}"
        self.add(rule.field, _Candidate(number, raw.label, "valueQuantity", when, shown, note))

    # ------------------------------------------------------------------ genetics

    def _finding(self, text: str) -> tuple[str, str] | None:
        """('bcr_abl1', '') or ('genetics', term id) for a name, else None."""
        bcr = {norm(n) for n in self.table.genetics.bcr_abl1_names}
        for name in finding_names(text):
            if norm(name) in bcr:
                return ("bcr_abl1", "")
            term = self.pack.genetic_term(name)
            if term is not None:
                return ("genetics", term.id)
        return None

    def _presence(self, obs: Observation) -> bool | None:
        g = self.table.genetics
        present = {(self.table.url(c.system), c.code) for c in g.present_codes}

        def of(concept: CodeableConcept) -> bool | None:
            if any((c.system, c.code) in present for c in concept.coding):
                return True
            for word in concept.words():
                if words_equal(word, g.present_words):
                    return True
                if words_equal(word, g.absent_words):
                    return False
            return None

        if obs.valueBoolean is not None:
            return obs.valueBoolean
        if obs.valueCodeableConcept is not None:
            return of(obs.valueCodeableConcept)
        if obs.valueString is not None:
            if words_equal(obs.valueString, g.present_words):
                return True
            if words_equal(obs.valueString, g.absent_words):
                return False
            return None
        for concept in obs.interpretation:
            result = of(concept)
            if result is not None:
                return result
        return None

    def _genetic(self, raw: RawResource, obs: Observation, when: When | None) -> bool:
        assert obs.code is not None
        g = self.table.genetics
        is_variant = any(
            obs.code.has(self.table.url(c.system), c.code) for c in g.observation_codes
        )
        names: list[tuple[str, str]] = []
        if is_variant:
            wanted = {(self.table.url(c.system), c.code) for c in g.component_codes}
            for i, comp in enumerate(obs.component):
                if comp.code and any((c.system, c.code) in wanted for c in comp.code.coding):
                    path = f"component[{i}].value[x]"
                    if comp.valueCodeableConcept:
                        names += [(w, path) for w in comp.valueCodeableConcept.words()]
                    if comp.valueString:
                        names.append((comp.valueString, path))
        else:
            names = [(w, "code") for w in obs.code.words()]
        if not is_variant and obs.valueString and mentions(obs.code.words(), g.karyotype_names):
            self._karyotype(raw, obs.valueString, when)
            return True
        for name, path in names:
            found = self._finding(name)
            if found is None:
                continue
            present = self._presence(obs)
            if present is None:
                self.problem(
                    "warning",
                    raw.label,
                    "value[x]",
                    f"result for '{name}' not understood ({_value_kind(obs)}); expected "
                    "Positive/Negative or Present/Absent: not used",
                )
                return True
            kind, term = found
            if kind == "bcr_abl1":
                value = "positive" if present else "negative"
                self.add("bcr_abl1", _Candidate(value, raw.label, path, when, value, name))
            else:
                self.genetics.setdefault(term, []).append(
                    (present, _Candidate(term, raw.label, path, when, term, name))
                )
            return True
        if is_variant:
            shown = ", ".join(n for n, _ in names) or "no gene or variant named"
            self.problem(
                "info",
                raw.label,
                "component",
                f"not used: genetic finding ({shown}) is not in the genetics vocabulary "
                "(docs/patient-input.md)",
            )
            return True
        return False

    def _karyotype(self, raw: RawResource, text: str, when: When | None) -> None:
        """Read an ISCN karyotype: modal number (single clone only) and translocations."""
        path = "valueString"
        found = False
        if "/" not in text:
            m = re.match(r"^\s*(\d{2,3})\s*(?:<[^>]*>)?\s*,", text)
            if m:
                found = True
                self.add(
                    "modal_chromosome_number",
                    _Candidate(int(m.group(1)), raw.label, path, when, m.group(1), text),
                )
        else:
            self.problem(
                "info",
                raw.label,
                path,
                f"karyotype '{text}' has more than one clone: modal chromosome number not read",
            )
        for token in sorted(set(re.findall(r"t\(\d{1,2};\d{1,2}\)", text))):
            result = self._finding(token)
            if result is None:
                continue
            found = True
            kind, term = result
            note = f"{token} in karyotype {text}"
            if kind == "bcr_abl1":
                self.add(
                    "bcr_abl1", _Candidate("positive", raw.label, path, when, "positive", note)
                )
            else:
                self.genetics.setdefault(term, []).append(
                    (True, _Candidate(term, raw.label, path, when, term, note))
                )
        if not found:
            self.problem("info", raw.label, path, f"not used: nothing read from karyotype '{text}'")

    # ------------------------------------------------------------------ text matches

    def _by_text(self, raw: RawResource, obs: Observation, when: When | None) -> bool:
        assert obs.code is not None
        t = self.table.text_matches
        words = obs.code.words()
        value_words = _value_words(obs)
        if mentions(words, t.g6pd_names):
            note = f"matched by text: {obs.code.describe()}"
            if any(words_equal(w, t.g6pd_deficient_words) for w in value_words):
                self.add(
                    "g6pd_deficiency", _Candidate(True, raw.label, "value[x]", when, "true", note)
                )
            elif any(words_equal(w, t.g6pd_normal_words) for w in value_words):
                self.add(
                    "g6pd_deficiency", _Candidate(False, raw.label, "value[x]", when, "false", note)
                )
            else:
                self.problem(
                    "warning",
                    raw.label,
                    "value[x]",
                    f"G6PD result {_value_kind(obs)} not interpreted: record it as 'Deficient' "
                    "or 'Normal' (a numeric activity needs a laboratory cut-off): not used",
                )
            return True
        for field, names in (("tpmt", t.tpmt_names), ("nudt15", t.nudt15_names)):
            if mentions(words, names):
                phenotype = None
                for level in ("poor", "intermediate", "normal"):
                    options = getattr(t.metaboliser_words, level)
                    if any(words_equal(w, options) for w in value_words):
                        phenotype = level
                        break
                if phenotype is None:
                    self.problem(
                        "warning",
                        raw.label,
                        "value[x]",
                        f"{field.upper()} result {_value_kind(obs)} is not a metaboliser "
                        "phenotype (normal, intermediate or poor metabolizer): not used",
                    )
                else:
                    note = f"matched by text: {obs.code.describe()}"
                    self.add(
                        field, _Candidate(phenotype, raw.label, "value[x]", when, phenotype, note)
                    )
                return True
        if mentions(words, t.mrd_names):
            self._mrd(raw, obs, when)
            return True
        return False

    def _mrd(self, raw: RawResource, obs: Observation, when: When | None) -> None:
        q = obs.valueQuantity
        if q is None or q.value is None or (q.code or q.unit) != "%":
            self.problem(
                "error",
                raw.label,
                "valueQuantity",
                f"MRD must be a valueQuantity in '%' (percent of cells); got {_value_kind(obs)}: "
                "not used",
            )
            return
        url = self.table.mrd_timepoint_url
        codes = [e.valueCode for e in obs.extension if e.url == url and e.valueCode]
        timepoint = next((t for t in MrdTimepoint if codes and codes[0] == t.value), None)
        if timepoint is None:
            options = ", ".join(t.value for t in MrdTimepoint)
            self.problem(
                "warning",
                raw.label,
                "extension",
                f"MRD {q.value:f}% has no time point: add extension {url} with valueCode one of "
                f"{options}: not used",
            )
            return
        method = None
        if obs.method is not None:
            text = " ".join(obs.method.words()).casefold()
            for m, keys in (
                (MrdMethod.flow, ("flow",)),
                (MrdMethod.pcr, ("pcr",)),
                (MrdMethod.ngs, ("ngs", "sequencing")),
            ):
                if any(k in text for k in keys):
                    method = m
        shown = f"{timepoint.value} {q.value:f}%"
        self.mrd.append(
            (
                timepoint,
                tidy(q.value),
                method,
                _Candidate(timepoint, raw.label, "valueQuantity", when, shown),
            )
        )

    # ------------------------------------------------------------------ Condition

    def _condition(self, raw: RawResource) -> None:
        cond = self.parse(raw, Condition)
        if cond is None:
            return
        verification = _status(cond.verificationStatus)
        if verification in _EXCLUDED_VERIFICATION:
            self.problem("info", raw.label, "verificationStatus", f"'{verification}': not used")
            return
        if self.for_other_patient(raw, cond.subject, "subject"):
            return
        if cond.code is None or cond.code.empty:
            self.problem("warning", raw.label, "code", "has no code: not used")
            return
        matches = [
            (i, m)
            for i, c in enumerate(cond.code.coding)
            if (m := self.table.condition(c.system, c.code)) is not None
        ]
        onset, onset_path = _onset(cond)
        when, usable = self.when_of(raw, onset, onset_path)
        if not usable:
            return
        t = self.table.text_matches
        if not matches:
            words = cond.code.words()
            note = f"matched by text: {cond.code.describe()}"
            if mentions(words, t.down_syndrome_names):
                self.add("down_syndrome", _Candidate(True, raw.label, "code", None, "true", note))
            elif mentions(words, t.g6pd_names) and mentions(words, t.g6pd_deficient_words):
                self.add("g6pd_deficiency", _Candidate(True, raw.label, "code", None, "true", note))
            else:
                self._unmapped(raw, cond.code, "code")
            return
        if verification in _UNCONFIRMED:
            self.problem(
                "warning",
                raw.label,
                "verificationStatus",
                f"diagnosis is '{verification}': used, but confirm it",
            )
        clinical = _status(cond.clinicalStatus)
        if clinical in ("inactive", "resolved", "remission"):
            self.problem(
                "warning",
                raw.label,
                "clinicalStatus",
                f"ALL diagnosis is '{clinical}': allguide plans first-line treatment of newly "
                "diagnosed ALL; check that the plan applies",
            )
        self.diagnoses.append(
            _Candidate(
                when.day if when else None, raw.label, onset_path, when, str(when or "no date")
            )
        )
        for i, m in matches:
            path = f"code.coding[{i}]"
            note = f"{self.table.systems[m.system].name} {m.code} ({m.display})"
            if m.status is not None:
                self.problem(
                    "warning",
                    raw.label,
                    path,
                    f"{m.display}: allguide plans first-line treatment of newly diagnosed ALL; "
                    f"check that the plan applies ({m.status})",
                )
            if m.lineage is not None:
                self.add("lineage", _Candidate(m.lineage, raw.label, path, when, m.lineage, note))
            if m.bcr_abl1 is not None:
                self.add(
                    "bcr_abl1", _Candidate(m.bcr_abl1, raw.label, path, when, m.bcr_abl1, note)
                )
            if m.genetic is not None:
                term = self.pack.genetic_term(m.genetic)
                if term is None:
                    self.problem(
                        "error",
                        raw.label,
                        path,
                        f"mapping names genetics term '{m.genetic}', which is not in the content "
                        "pack (fix src/allguide/fhir/mapping.yaml)",
                    )
                else:
                    self.genetics.setdefault(term.id, []).append(
                        (True, _Candidate(term.id, raw.label, path, when, term.id, note))
                    )

    # ------------------------------------------------------------------ AllergyIntolerance

    def _allergy(self, raw: RawResource) -> None:
        allergy = self.parse(raw, AllergyIntolerance)
        if allergy is None:
            return
        verification = _status(allergy.verificationStatus)
        if verification in _EXCLUDED_VERIFICATION:
            self.problem("info", raw.label, "verificationStatus", f"'{verification}': not used")
            return
        if self.for_other_patient(raw, allergy.patient, "patient"):
            return
        concepts = [("code", allergy.code)] + [
            (f"reaction[{i}].substance", r.substance) for i, r in enumerate(allergy.reaction)
        ]
        for path, concept in concepts:
            if concept is None:
                continue
            drug, why = drug_for(concept, self.pack, self.table)
            if why is not None:
                self.problem("warning", raw.label, path, f"{why}: not used")
            if drug is None:
                continue
            rules = self.table.allergy
            if drug.id in rules.asparaginase_products:
                note = f"reaction to {drug.id}"
                if verification in _UNCONFIRMED:
                    note += f" ({verification})"
                self.add_to_list(
                    "asparaginase_reactions",
                    _Candidate(drug.id, raw.label, path, None, drug.id, note),
                )
                if drug.id in rules.ecoli_asparaginase_drugs:
                    self.add(
                        "asparaginase_hypersensitivity",
                        _Candidate(True, raw.label, path, None, "true", note),
                    )
            else:
                self.problem(
                    "info",
                    raw.label,
                    path,
                    f"allergy to {drug.name}: not an input of the plan or the order checks "
                    "(only reactions to asparaginase products are)",
                )
            return
        if allergy.code is None or allergy.code.empty:
            self.problem("warning", raw.label, "code", "has no code or substance: not used")
        else:
            self.problem("info", raw.label, "code", f"not used: {allergy.code.describe()}")

    # ------------------------------------------------------------------ current medicines

    def _medication(self, raw: RawResource) -> None:
        model: type[MedicationRequest] | type[MedicationStatement] = (
            MedicationRequest if raw.type == "MedicationRequest" else MedicationStatement
        )
        med = self.parse(raw, model)
        if med is None:
            return
        if raw.type == "MedicationRequest" and med.status == "draft":
            self.problem(
                "info",
                raw.label,
                "status",
                "draft order: checked by the order checks (allguide check, order-select), "
                "not read as a current medicine",
            )
            return
        if med.status not in _CURRENT_STATUS[raw.type]:
            self.problem(
                "info",
                raw.label,
                "status",
                f"status '{med.status}': not a current medicine, not used",
            )
            return
        if self.for_other_patient(raw, med.subject, "subject"):
            return
        concept = med.medicationCodeableConcept
        if concept is None or concept.empty:
            self.problem(
                "warning",
                raw.label,
                "medication[x]",
                "medicine not named (medicationReference is not followed; give "
                "medicationCodeableConcept): not used",
            )
            return
        drug, why = drug_for(concept, self.pack, self.table)
        path = "medicationCodeableConcept"
        if drug is not None:
            self.add_to_list(
                "current_medications", _Candidate(drug.id, raw.label, path, None, drug.id)
            )
            return
        name = next(iter(concept.words()), None)
        if name is None:
            self.problem("warning", raw.label, path, f"{concept.describe()} has no name: not used")
            return
        note = why or "not a content drug; kept by name"
        self.add_to_list("current_medications", _Candidate(name, raw.label, path, None, name, note))

    # ------------------------------------------------------------------ resolve and build

    def _build(self) -> FhirIntake:
        data: dict[str, Any] = {}
        used: list[UsedValue] = []
        sources: dict[str, tuple[str, str]] = {}

        def put(field: str, cand: _Candidate, value: Any = None) -> None:
            data[field] = cand.value if value is None else value
            used.append(
                UsedValue(
                    field=field,
                    value=cand.shown,
                    resource=cand.resource,
                    path=cand.path,
                    note=cand.note,
                )
            )
            sources[field] = (cand.resource, cand.path)

        diagnosis = self._diagnosis_date()
        birth = self._agree("birth_date")
        if birth is not None:
            if diagnosis is not None:
                put("birth_date", birth)
                put("diagnosis_date", diagnosis)
            else:
                age = (Decimal((self.today - birth.value).days) / DAYS_PER_YEAR).quantize(
                    Decimal("0.01")
                )
                put("age_years", birth, tidy(age))
                used[-1] = used[-1].model_copy(
                    update={
                        "value": f"{tidy(age)}",
                        "note": f"born {birth.value}, age on {self.today}",
                    }
                )
                self.problem(
                    "warning",
                    "Bundle",
                    "Condition.onsetDateTime",
                    f"no diagnosis date found: age computed at today's date ({self.today})",
                )
        rules = {r.field: r for r in self.table.quantities}
        for field in self.candidates:
            if field in ("birth_date",):
                continue
            rule = rules.get(field)
            if rule is not None:
                cand = self._pick(field, rule.label, rule.pick, diagnosis)
            elif field == "bcr_abl1":
                cand = self._bcr_abl1()
            else:
                cand = self._agree(field)
            if cand is not None:
                put(field, cand)
        for field, cands in sorted(self.lists.items()):
            data[field] = sorted({str(c.value) for c in cands})
            for c in cands:
                used.append(
                    UsedValue(
                        field=field, value=c.shown, resource=c.resource, path=c.path, note=c.note
                    )
                )
            sources[field] = (cands[0].resource, cands[0].path)
        genetics = self._genetics()
        if genetics is not None:
            terms, cands = genetics
            data["genetics"] = terms
            for c in cands:
                used.append(
                    UsedValue(
                        field="genetics",
                        value=c.shown,
                        resource=c.resource,
                        path=c.path,
                        note=c.note,
                    )
                )
            if cands:
                sources["genetics"] = (cands[0].resource, cands[0].path)
        mrd = self._mrd_results()
        if mrd:
            data["mrd"] = [m for m, _ in mrd]
            for _, c in mrd:
                used.append(UsedValue(field="mrd", value=c.shown, resource=c.resource, path=c.path))
            sources["mrd"] = (mrd[0][1].resource, mrd[0][1].path)
        if not self.diagnoses:
            self.problem(
                "warning",
                "Bundle",
                "entry",
                "no Condition coding acute lymphoblastic leukemia (SNOMED CT, ICD-10-CM or "
                "ICD-O-3; see docs/fhir-mapping.md): allguide's plans are for ALL only",
            )
        patient: PatientInput | None = None
        try:
            patient = parse_patient(data, self.pack)
        except InputError as exc:
            for p in exc.problems:
                top = p.field.split(".")[0]
                resource, path = sources.get(top, ("Bundle", p.field))
                if top == "patient" and self.patient_label:
                    resource, path = self.patient_label, "birthDate"  # age-level checks
                if top in ("patient", "birth_date", "age_years") and self.age_reported:
                    continue  # the cause (e.g. a missing birthDate) is reported already
                self.problem("error", resource, path, f"{p.field}: {p.message}")
        order = {"error": 0, "warning": 1, "info": 2}
        problems = sorted(self.problems, key=lambda p: order[p.severity])
        return FhirIntake(patient=patient, data=data, problems=problems, used=used)

    def _conflict(self, what: str, cands: list[_Candidate], why: str = "") -> None:
        shown = "; ".join(
            f"{c.shown} ({c.resource}.{c.path}{', ' + str(c.when) if c.when else ''})"
            for c in cands
        )
        self.problem(
            "error",
            cands[0].resource,
            cands[0].path,
            f"conflicting {what}: {shown}{why}; the value stays unknown until the record is "
            "corrected",
        )

    def _agree(self, field: str) -> _Candidate | None:
        """All candidates must give the same value (sex, lineage, birth date, flags)."""
        cands = self.candidates.get(field, [])
        if not cands:
            return None
        if len({repr(c.value) for c in cands}) > 1:
            self._conflict(field, _distinct(cands))
            return None
        return cands[0]

    def _pick(
        self, field: str, label: str, pick: str, diagnosis: _Candidate | None
    ) -> _Candidate | None:
        cands = self.candidates.get(field, [])
        if len({repr(c.value) for c in cands}) <= 1:
            return _latest_dated(cands) if cands else None
        if pick == "presenting" and diagnosis is not None and diagnosis.value is not None:
            dx: dt.date = diagnosis.value
            dated = [c for c in cands if c.when is not None]
            before = [c for c in dated if c.when is not None and c.when.day <= dx]
            pool = before or dated
            if pool:
                target = max(pool, key=_when_key) if before else min(pool, key=_when_key)
                return self._choose(field, label, cands, target, "closest to the diagnosis date")
            self._conflict(f"{label} ({field})", _distinct(cands), " (none is dated)")
            return None
        if pick == "presenting":
            self.problem(
                "warning",
                cands[0].resource,
                cands[0].path,
                f"several {label} values and no diagnosis date: the most recent is used, which "
                "may not be the presenting count",
            )
        dated = [c for c in cands if c.when is not None]
        if len(dated) < len(cands):
            self._conflict(f"{label} ({field})", _distinct(cands), " (not all are dated)")
            return None
        return self._choose(field, label, cands, max(dated, key=_when_key), "most recent")

    def _choose(
        self, field: str, label: str, cands: list[_Candidate], target: _Candidate, why: str
    ) -> _Candidate | None:
        """Use `target` if every differing value is clearly earlier (or, for the presenting
        count, clearly on another day); otherwise report a conflict."""
        assert target.when is not None
        others = [c for c in cands if repr(c.value) != repr(target.value)]
        clash = [
            c
            for c in others
            if c.when is None
            or not (target.when.clearly_after(c.when) or c.when.clearly_after(target.when))
        ]
        if clash:
            self._conflict(f"{label} ({field})", _distinct([target, *clash]), " (same date)")
            return None
        for c in others:
            self.problem(
                "info",
                c.resource,
                c.path,
                f"{label} {c.shown} ({c.when}) not used: {target.shown} from {target.resource} "
                f"({target.when}) is {why}",
            )
        return target

    def _bcr_abl1(self) -> _Candidate | None:
        """Ph+ stays Ph+: a negative result clearly after a positive one is a later
        (molecular) response, not a contradiction; anything else that differs is."""
        cands = self.candidates.get("bcr_abl1", [])
        positives = [c for c in cands if c.value == "positive"]
        negatives = [c for c in cands if c.value == "negative"]
        if not positives or not negatives:
            return cands[0] if cands else None
        first_positive = min(positives, key=_when_key) if all(c.when for c in positives) else None
        if (
            first_positive is not None
            and first_positive.when is not None
            and all(
                n.when is not None and n.when.clearly_after(first_positive.when) for n in negatives
            )
        ):
            for n in negatives:
                self.problem(
                    "warning",
                    n.resource,
                    n.path,
                    f"BCR::ABL1 negative ({n.when}) after a positive result "
                    f"({first_positive.resource}, {first_positive.when}): read as a later "
                    "response; Ph status stays positive",
                )
            return first_positive
        self._conflict("bcr_abl1", [positives[0], negatives[0]])
        return None

    def _genetics(self) -> tuple[list[str], list[_Candidate]] | None:
        """Present terms. Only set when something was found: a negative result for one
        term says nothing about the rest, so genetics otherwise stays unknown."""
        present: list[str] = []
        cands: list[_Candidate] = []
        for term, results in sorted(self.genetics.items()):
            yes = [c for ok, c in results if ok]
            no = [c for ok, c in results if not ok]
            if yes and no:
                self._conflict(f"genetics {term}", [yes[0], no[0]], " (found and not found)")
                continue
            if yes:
                present.append(term)
                cands.append(yes[0])
        if not present:
            if self.genetics:
                first = next(iter(self.genetics.values()))[0][1]
                self.problem(
                    "info",
                    first.resource,
                    first.path,
                    "only negative genetic results: genetics stays unknown (the list is read as "
                    "the complete set of abnormalities found)",
                )
            return None
        self.problem(
            "info",
            cands[0].resource,
            cands[0].path,
            f"genetics taken as the complete list of abnormalities found: {', '.join(present)}",
        )
        return present, cands

    def _mrd_results(self) -> list[tuple[dict[str, Any], _Candidate]]:
        by_tp: dict[MrdTimepoint, list[tuple[Decimal, MrdMethod | None, _Candidate]]] = {}
        for tp, value, method, cand in self.mrd:
            by_tp.setdefault(tp, []).append((value, method, cand))
        out: list[tuple[dict[str, Any], _Candidate]] = []
        for tp, results in sorted(by_tp.items(), key=lambda kv: list(MrdTimepoint).index(kv[0])):
            if len({v for v, _, _ in results}) > 1:
                self._conflict(f"MRD at {tp.value}", [c for _, _, c in results])
                continue
            value, method, cand = results[0]
            item: dict[str, Any] = {"timepoint": tp.value, "value_percent": value}
            if method is not None:
                item["method"] = method.value
            out.append((item, cand))
        return out

    def _diagnosis_date(self) -> _Candidate | None:
        dated = [c for c in self.diagnoses if c.value is not None]
        if not dated:
            return None
        first = min(dated, key=_when_key)
        if len({c.value for c in dated}) > 1:
            self.problem(
                "info",
                first.resource,
                first.path,
                "ALL conditions give different dates: the earliest "
                f"({first.value}) is used as the diagnosis date",
            )
        return first


# --------------------------------------------------------------------------- small helpers


def _when_key(c: _Candidate) -> tuple[dt.date, dt.datetime]:
    assert c.when is not None
    return c.when.sort_key()


def _latest_dated(cands: list[_Candidate]) -> _Candidate:
    dated = [c for c in cands if c.when is not None]
    return max(dated, key=_when_key) if dated else cands[0]


def _distinct(cands: list[_Candidate]) -> list[_Candidate]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in cands:
        key = (repr(c.value), c.resource)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _status(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    for c in concept.coding:
        if c.code:
            return c.code
    return concept.text.casefold() if concept.text else None


def _onset(cond: Condition) -> tuple[str | None, str]:
    if cond.onsetDateTime:
        return cond.onsetDateTime, "onsetDateTime"
    if cond.onsetPeriod and cond.onsetPeriod.start:
        return cond.onsetPeriod.start, "onsetPeriod.start"
    if cond.recordedDate:
        return cond.recordedDate, "recordedDate"
    return None, "onsetDateTime"


def _value_words(obs: Observation) -> list[str]:
    out: list[str] = []
    if obs.valueCodeableConcept is not None:
        out += obs.valueCodeableConcept.words()
    if obs.valueString is not None:
        out.append(obs.valueString)
    return out


def _value_kind(obs: Observation) -> str:
    if obs.valueQuantity is not None:
        return f"valueQuantity {obs.valueQuantity.describe()}"
    if obs.valueCodeableConcept is not None:
        return f"valueCodeableConcept {obs.valueCodeableConcept.describe()}"
    if obs.valueString is not None:
        return f"valueString '{obs.valueString}'"
    if obs.valueBoolean is not None:
        return f"valueBoolean {str(obs.valueBoolean).lower()}"
    if obs.valueInteger is not None:
        return f"valueInteger {obs.valueInteger}"
    return "no value"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

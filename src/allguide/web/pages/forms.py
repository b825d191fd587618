"""The plan-builder form: every `PatientInput` field, grouped, labelled, with units.

The form is described as data (`GROUPS`) so the template stays dumb and a test can check
that no patient field is missing from the page. Fields added to `PatientInput` later that
are not described here still appear, in an "Other findings" group, with the model's own
description as the hint.

Empty inputs mean *unknown* and are left out of the patient data (never turned into
`false` or 0). Problems from `patient.intake.InputError` are mapped back to the input
they came from so the message can sit beside it.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import InputProblem
from allguide.patient.model import MrdMethod, MrdTimepoint, PatientInput

Widget = Literal["number", "integer", "date", "choice", "yesno", "text", "lines", "genetics"]

START_DATE = "start_date"
GENETICS_REPORTED = "genetics_reported"
FORM_LEVEL = "_form"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    widget: Widget
    unit: str | None = None
    hint: str | None = None
    choices: tuple[Choice, ...] = ()

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    fields: tuple[FieldSpec, ...]
    note: str | None = None


def _choices(pairs: Iterable[tuple[str, str]]) -> tuple[Choice, ...]:
    return tuple(Choice(v, label) for v, label in pairs)


_F = FieldSpec
GROUPS: tuple[Group, ...] = (
    Group(
        "demographics",
        "Patient",
        (
            _F("age_years", "Age at diagnosis", "number", "years", "Or give both dates below."),
            _F("birth_date", "Date of birth", "date", None, "YYYY-MM-DD"),
            _F("diagnosis_date", "Date of diagnosis", "date", None, "YYYY-MM-DD"),
            _F("sex", "Sex", "choice", choices=_choices([("female", "Female"), ("male", "Male")])),
            _F("weight_kg", "Weight", "number", "kg", "Needed for mg/kg doses and BSA."),
            _F(
                "height_cm",
                "Height",
                "number",
                "cm",
                "In centimetres (e.g. 104). Needed for body surface area.",
            ),
        ),
    ),
    Group(
        "blood",
        "Blood counts",
        (
            _F(
                "wbc_x10e9_per_l",
                "White-cell count at diagnosis",
                "number",
                "×10⁹/L",
                "Same as thousands per µL (e.g. 12.4, not 12400).",
            ),
        ),
    ),
    Group(
        "immunophenotype",
        "Immunophenotype",
        (
            _F(
                "lineage",
                "Lineage",
                "choice",
                choices=_choices([("B", "B-cell (B-ALL)"), ("T", "T-cell (T-ALL)")]),
            ),
            _F("etp", "Early T-cell precursor (ETP) phenotype", "yesno"),
            _F("cd20_percent", "Blasts expressing CD20", "number", "%", "0 to 100."),
        ),
    ),
    Group(
        "genetics",
        "Genetics",
        (
            _F(
                "bcr_abl1",
                "BCR::ABL1 (Philadelphia chromosome)",
                "choice",
                choices=_choices(
                    [("positive", "Positive"), ("negative", "Negative"), ("unknown", "Pending")]
                ),
            ),
            _F("genetics", "Genetic findings", "genetics"),
            _F("modal_chromosome_number", "Modal chromosome number", "integer", None, "20 to 100."),
            _F(
                "abl1_mutations",
                "ABL1 kinase-domain mutations",
                "text",
                None,
                "Comma-separated protein changes, e.g. T315I, E255K.",
            ),
            _F("down_syndrome", "Down syndrome (constitutional trisomy 21)", "yesno"),
        ),
    ),
    Group(
        "cns",
        "Central nervous system and testes",
        (
            _F(
                "cns_status",
                "CNS status (diagnostic lumbar puncture)",
                "choice",
                choices=_choices(
                    [
                        ("CNS1", "CNS1: no blasts in CSF"),
                        ("CNS2", "CNS2: <5 WBC/µL with blasts"),
                        ("CNS3", "CNS3: ≥5 WBC/µL with blasts, or CNS signs"),
                    ]
                ),
            ),
            _F("testicular_involvement", "Overt testicular leukemia", "yesno"),
        ),
    ),
    Group(
        "fitness",
        "Fitness and comorbidities",
        (
            _F(
                "ecog",
                "ECOG performance status",
                "choice",
                choices=_choices(
                    [
                        ("0", "0: fully active"),
                        ("1", "1: light work only"),
                        ("2", "2: up and about >50% of waking hours"),
                        ("3", "3: in bed or chair >50% of waking hours"),
                        ("4", "4: completely disabled"),
                    ]
                ),
            ),
            _F("fit_for_intensive", "Fit for intensive chemotherapy (clinician's view)", "yesno"),
            _F("comorbidities", "Comorbidities", "lines", None, "One per line."),
        ),
    ),
    Group(
        "organs",
        "Organ function",
        (
            _F("lvef_percent", "Left-ventricular ejection fraction", "number", "%", "5 to 90."),
            _F("creatinine_clearance_ml_min", "Creatinine clearance", "number", "mL/min"),
            _F(
                "total_bilirubin_mg_dl",
                "Total bilirubin",
                "number",
                "mg/dL",
                "In mg/dL (divide µmol/L by 17.1).",
            ),
        ),
    ),
    Group(
        "pharmacogenomics",
        "Drug history and pharmacogenomics",
        (
            _F(
                "tpmt",
                "TPMT metaboliser status",
                "choice",
                choices=_choices(
                    [("normal", "Normal"), ("intermediate", "Intermediate"), ("poor", "Poor")]
                ),
            ),
            _F(
                "nudt15",
                "NUDT15 metaboliser status",
                "choice",
                choices=_choices(
                    [("normal", "Normal"), ("intermediate", "Intermediate"), ("poor", "Poor")]
                ),
            ),
            _F("g6pd_deficiency", "G6PD deficiency", "yesno"),
            _F(
                "asparaginase_hypersensitivity",
                "Hypersensitivity to E. coli-derived asparaginase",
                "yesno",
            ),
            _F(
                "asparaginase_reactions",
                "Asparaginase products that caused a reaction",
                "lines",
                None,
                "One product per line, e.g. pegaspargase.",
            ),
            _F(
                "prior_anthracycline_mg_m2",
                "Anthracycline already received (cumulative)",
                "number",
                "mg/m² doxorubicin-equivalent",
                "Daunorubicin counts 0.6 × its dose.",
            ),
            _F(
                "current_medications",
                "Other current medicines",
                "lines",
                None,
                "One per line (e.g. fluconazole), for interaction checks.",
            ),
        ),
    ),
    Group(
        "response",
        "Response to treatment",
        (
            _F(
                "prednisone_response",
                "Prednisone response (day 8)",
                "choice",
                choices=_choices([("good", "Good: <1 ×10⁹/L blasts in blood"), ("poor", "Poor")]),
            ),
            _F(
                "induction_outcome",
                "Induction outcome",
                "choice",
                choices=_choices(
                    [
                        ("complete_remission", "Complete remission"),
                        ("induction_failure", "Induction failure"),
                        ("pending", "Pending"),
                    ]
                ),
            ),
            _F(
                "days_to_complete_remission",
                "Days from start of induction to remission",
                "integer",
                "days",
            ),
            _F(
                "remission",
                "Current remission",
                "choice",
                choices=_choices([("CR1", "CR1"), ("CR2", "CR2"), ("CR3", "CR3")]),
            ),
        ),
        note="MRD results are entered in the table below.",
    ),
)

_MRD_LABELS = {
    MrdTimepoint.day8_blood: "Day 8 (blood)",
    MrdTimepoint.day15_marrow: "Day 15 (marrow)",
    MrdTimepoint.end_of_induction: "End of induction",
    MrdTimepoint.day78_marrow: "Day 78 (marrow)",
    MrdTimepoint.end_of_consolidation: "End of consolidation",
    MrdTimepoint.pre_transplant: "Before transplant",
}
MRD_METHODS = _choices([(m.value, m.value.upper()) for m in MrdMethod])


@dataclass(frozen=True)
class MrdRow:
    timepoint: str
    label: str

    @property
    def value_name(self) -> str:
        return f"mrd_{self.timepoint}"

    @property
    def method_name(self) -> str:
        return f"mrd_{self.timepoint}_method"


MRD_ROWS = tuple(MrdRow(tp.value, _MRD_LABELS.get(tp, tp.value)) for tp in MrdTimepoint)

_DESCRIBED = {f.name for g in GROUPS for f in g.fields} | {"mrd"}


def _guess_widget(annotation: Any) -> Widget:
    """Widget for a field the form does not describe yet (added to PatientInput later)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    inner = args[0] if args else annotation
    inner = typing.get_args(inner)[0] if typing.get_origin(inner) is typing.Annotated else inner
    if inner is bool:
        return "yesno"
    if inner is int:
        return "integer"
    if inner is Decimal:
        return "number"
    if inner is dt.date:
        return "date"
    if typing.get_origin(inner) is list:
        return "lines"
    return "text"


def _choices_of(annotation: Any) -> tuple[Choice, ...]:
    for arg in typing.get_args(annotation) or (annotation,):
        base = typing.get_args(arg)[0] if typing.get_origin(arg) is typing.Annotated else arg
        if isinstance(base, type) and issubclass(base, StrEnum):
            return _choices((m.value, m.value) for m in base)
    return ()


def form_groups() -> tuple[Group, ...]:
    """The described groups plus any patient fields the form does not know yet."""
    extra: list[FieldSpec] = []
    for name, info in PatientInput.model_fields.items():
        if name in _DESCRIBED:
            continue
        choices = _choices_of(info.annotation)
        widget: Widget = "choice" if choices else _guess_widget(info.annotation)
        label = name.replace("_", " ").capitalize()
        extra.append(FieldSpec(name, label, widget, None, info.description, choices))
    if not extra:
        return GROUPS
    return (*GROUPS, Group("other", "Other findings", tuple(extra)))


def field_index() -> dict[str, FieldSpec]:
    return {f.name: f for g in form_groups() for f in g.fields}


def genetics_choices(pack: ContentPack) -> list[Choice]:
    """Genetics vocabulary from the content pack, B-lineage first, then T, then any."""
    order = {"B": 0, "T": 1, None: 2}
    terms = sorted(
        pack.genetics.values(),
        key=lambda t: (order.get(t.lineage.value if t.lineage else None, 2), t.label.lower()),
    )
    return [Choice(t.id, t.label) for t in terms]


# ---------------------------------------------------------------- form ↔ patient data


@dataclass
class FormState:
    """What the user typed (to redisplay) and the problems found, keyed by input name."""

    values: dict[str, str | list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        v = self.values.get(name, "")
        return v if isinstance(v, str) else ""

    def selected(self, name: str) -> list[str]:
        v = self.values.get(name, [])
        return v if isinstance(v, list) else [v] if v else []

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def error_count(self) -> int:
        return sum(len(m) for m in self.errors.values())


def read_form(form: Mapping[str, Any] | Any) -> FormState:
    """Copy the submitted values (strings; lists for multi-value inputs)."""
    state = FormState()
    getlist = getattr(form, "getlist", None)
    for key in dict(form):
        if key in {"csrf_token"}:
            continue
        values = [str(v) for v in (getlist(key) if getlist else [form[key]])]
        state.values[key] = values if key == "genetics" else values[-1].strip()
    return state


def patient_data(state: FormState) -> tuple[dict[str, Any], dict[int, str]]:
    """Turn form values into the dict `parse_patient` expects.

    Returns the data and, for each MRD list index, the input it came from (so an error on
    `mrd.1.value_percent` can be shown beside the right row).
    """
    data: dict[str, Any] = {}
    for name, spec in field_index().items():
        if spec.widget == "genetics":
            picked = state.selected(name)
            if picked or state.value(GENETICS_REPORTED) == "yes":
                data[name] = picked
            continue
        raw = state.value(name)
        if raw == "":
            continue  # unknown: leave it out, never default it
        if spec.widget == "yesno":
            data[name] = {"yes": True, "no": False}.get(raw, raw)
        elif spec.widget == "lines":
            items = [s.strip() for s in raw.replace("\r", "").split("\n") if s.strip()]
            if items:
                data[name] = items
        elif name == "abl1_mutations":
            items = [s.strip() for s in raw.replace(";", ",").split(",") if s.strip()]
            if items:
                data[name] = items
        elif spec.widget == "integer" or (spec.widget == "choice" and name == "ecog"):
            data[name] = _int_or_raw(raw)
        else:
            data[name] = raw
    mrd: list[dict[str, Any]] = []
    origins: dict[int, str] = {}
    for row in MRD_ROWS:
        raw = state.value(row.value_name)
        if raw == "":
            if state.value(row.method_name):
                state.add_error(row.value_name, "give the MRD value for this method, or clear it")
            continue
        entry: dict[str, Any] = {"timepoint": row.timepoint, "value_percent": raw}
        if state.value(row.method_name):
            entry["method"] = state.value(row.method_name)
        origins[len(mrd)] = row.value_name
        mrd.append(entry)
    if mrd:
        data["mrd"] = mrd
    return data, origins


def _int_or_raw(raw: str) -> int | str:
    try:
        return int(raw)
    except ValueError:
        return raw  # pydantic reports "expected a whole number" beside the field


def parse_start_date(state: FormState) -> dt.date | None:
    raw = state.value(START_DATE)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        state.add_error(START_DATE, f"'{raw}' is not a date; expected YYYY-MM-DD (e.g. 2026-01-05)")
        return None


def attach_problems(
    state: FormState, problems: Iterable[InputProblem], mrd_origins: Mapping[int, str]
) -> None:
    """Put each intake problem beside the input it is about."""
    known = field_index()
    for problem in problems:
        state.add_error(_input_for(problem, known, mrd_origins), _message(problem))


def _message(problem: InputProblem) -> str:
    # The intake message already names what is expected; the field is shown by the label.
    return problem.message[:1].upper() + problem.message[1:]


def _input_for(
    problem: InputProblem, known: Mapping[str, FieldSpec], mrd_origins: Mapping[int, str]
) -> str:
    parts = problem.field.split(".")
    if parts[0] == "mrd":
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) in mrd_origins:
            origin = mrd_origins[int(parts[1])]
            return f"{origin}_method" if parts[-1] == "method" else origin
        return FORM_LEVEL
    if parts[0] in known:
        return parts[0]
    # Whole-patient problems: "age is required: give age_years, or ...", "diagnosis_date is
    # before birth_date". The field the message starts with is the one to fix.
    text = problem.message
    if text.startswith("age"):
        return "age_years"
    mentioned = [(text.find(name), name) for name in known if name in text]
    return min(mentioned)[1] if mentioned else FORM_LEVEL

"""Turn a patient file (JSON or YAML) into a validated `PatientInput`.

Every problem is reported at once, each naming the field, the value given and what is
expected, with a suggestion where one is obvious. Nothing here raises a traceback at the
user: callers catch `InputError` and print its problems.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from allguide.knowledge.loader import read_yaml
from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput


@dataclass(frozen=True)
class InputProblem:
    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is _MISSING else repr(_plain(self.value))
        return f"{self.field}: {shown}: {self.message}"


class InputError(Exception):
    def __init__(self, problems: list[InputProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


_MISSING = object()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    return value


def read_patient_file(path: Path) -> Any:
    """Parse JSON or YAML; a malformed file is an `InputError`, not a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([InputProblem("file", str(path), "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([InputProblem("file", str(path), f"cannot read: {exc}")]) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal)
        return read_yaml(path)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        detail = str(exc).splitlines()[0]
        raise InputError([InputProblem("file", str(path), f"not valid {kind}: {detail}")]) from None


def parse_patient(data: Any, pack: ContentPack) -> PatientInput:
    """Validate raw data; genetics terms are checked against the content vocabulary."""
    if not isinstance(data, dict):
        raise InputError(
            [InputProblem("file", type(data).__name__, "expected a mapping of field: value")]
        )
    problems: list[InputProblem] = []
    fields = set(PatientInput.model_fields)
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(InputProblem(str(key), data[key], f"unknown field{hint}"))
    clean = {k: v for k, v in data.items() if k in fields}
    if isinstance(clean.get("genetics"), list):
        clean["genetics"], genetic_problems = _normalise_genetics(clean["genetics"], pack)
        problems.extend(genetic_problems)
    try:
        patient = PatientInput.model_validate(clean)
    except ValidationError as exc:
        problems.extend(_from_validation(exc, clean))
        patient = None
    if problems or patient is None:
        raise InputError(problems)
    return patient


def load_patient(path: Path, pack: ContentPack) -> PatientInput:
    return parse_patient(read_patient_file(path), pack)


def _normalise_genetics(
    terms: list[Any], pack: ContentPack
) -> tuple[list[str], list[InputProblem]]:
    out: list[str] = []
    problems: list[InputProblem] = []
    vocabulary = sorted(pack.genetics)
    for raw in terms:
        term = pack.genetic_term(str(raw))
        if term is None:
            close = difflib.get_close_matches(str(raw), vocabulary, n=2, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            problems.append(
                InputProblem(
                    "genetics",
                    raw,
                    f"unknown genetics term{hint} (vocabulary: docs/patient-input.md)",
                )
            )
        else:
            out.append(term.id)
    return out, problems


_EXPECTED = {
    "enum": "expected one of: {expected}",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "int_type": "expected a whole number",
    "decimal_parsing": "expected a number",
    "decimal_type": "expected a number",
    "date_from_datetime_parsing": "expected a date as YYYY-MM-DD",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_type": "expected a date as YYYY-MM-DD",
    "list_type": "expected a list",
    "string_type": "expected text",
    "extra_forbidden": "unknown field",
    "missing": "this field is required",
}


def _from_validation(exc: ValidationError, data: dict[str, Any]) -> list[InputProblem]:
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        field = ".".join(str(p) for p in loc) or "patient"
        value: Any = _lookup(data, loc)
        etype = err["type"]
        if etype == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif etype in _EXPECTED:
            expected = (err.get("ctx") or {}).get("expected", "")
            message = _EXPECTED[etype].format(expected=expected)
            if etype == "enum" and isinstance(value, str):
                options = [o.strip(" '") for o in str(expected).replace(" or ", ",").split(",")]
                close = difflib.get_close_matches(value, options, n=1, cutoff=0.4)
                if close:
                    message += f"; did you mean '{close[0]}'?"
        else:
            message = err["msg"]
        if not loc:
            field, value = "patient", _MISSING
        problems.append(InputProblem(field, value, message))
    return problems


def _lookup(data: Any, loc: list[Any]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data

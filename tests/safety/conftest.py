"""Fixtures for the order checks: reference patients and a one-call checker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.patient.model import PatientInput
from allguide.safety import OrderCheckResult, check_orders, parse_order_set

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "orders"
TODAY = dt.date(2026, 11, 22)


def reference_patients() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = yaml.safe_load(
        (CASES_DIR / "_patients.yaml").read_text(encoding="utf-8")
    )
    return data


def patient_data(name: str, **changes: Any) -> dict[str, Any]:
    """A reference patient with fields set (a None value removes the field)."""
    data = dict(reference_patients()[name])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def run(pack: ContentPack):  # type: ignore[no-untyped-def]
    """run(order_set_dict, patient_dict_or_None) -> OrderCheckResult."""

    def check(order_set: dict[str, Any], patient: dict[str, Any] | None = None) -> OrderCheckResult:
        person: PatientInput | None = None if patient is None else parse_patient(patient, pack)
        return check_orders(parse_order_set(order_set, pack), person, pack, today=TODAY)

    return check

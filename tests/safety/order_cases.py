"""Reference patients and constants shared by the order-check tests (import by name)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

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

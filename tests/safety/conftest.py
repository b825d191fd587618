"""Fixtures for the order checks: reference patients and a one-call checker."""

from __future__ import annotations

from typing import Any

import pytest
from order_cases import TODAY

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.patient.model import PatientInput
from allguide.safety import OrderCheckResult, check_orders, parse_order_set


@pytest.fixture
def run(pack: ContentPack):  # type: ignore[no-untyped-def]
    """run(order_set_dict, patient_dict_or_None) -> OrderCheckResult."""

    def check(order_set: dict[str, Any], patient: dict[str, Any] | None = None) -> OrderCheckResult:
        person: PatientInput | None = None if patient is None else parse_patient(patient, pack)
        return check_orders(parse_order_set(order_set, pack), person, pack, today=TODAY)

    return check

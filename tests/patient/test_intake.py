"""Bad input of every field kind gets a message naming the field, the value and what is
expected (with a suggestion where one is obvious)."""

from __future__ import annotations

from typing import Any

import pytest

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import InputError, parse_patient

BASE: dict[str, Any] = {"age_years": 6}


def problems(pack: ContentPack, **fields: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_patient({**BASE, **fields}, pack)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"height_cm": 1.62}, ["height_cm: 1.62", "metres", "did you mean 162"]),
        ({"wbc_x10e9_per_l": 45000}, ["wbc_x10e9_per_l: 45000", "cells/µL", "did you mean 45"]),
        ({"weight_kg": -3}, ["weight_kg: -3", "weight in kilograms"]),
        ({"weight_kg": 400}, ["weight_kg: 400", "pounds"]),
        ({"age_years": 130}, ["age_years: 130", "between 0 and 120"]),
        ({"lineage": "X"}, ["lineage: 'X'", "expected one of", "'B'"]),
        ({"sex": "f"}, ["sex: 'f'", "female"]),
        ({"bcr_abl1": "pos"}, ["bcr_abl1: 'pos'", "positive"]),
        ({"cns_status": "CNS4"}, ["cns_status: 'CNS4'", "CNS1"]),
        ({"etp": "maybe"}, ["etp: 'maybe'", "true or false"]),
        ({"ecog": 7}, ["ecog: 7", "0 to 4"]),
        ({"ecog": "one"}, ["ecog: 'one'", "whole number"]),
        ({"cd20_percent": 140}, ["cd20_percent: 140", "0 and 100"]),
        ({"lvef_percent": 0.55}, ["lvef_percent: 0.55", "did you mean 55"]),
        ({"total_bilirubin_mg_dl": 85}, ["total_bilirubin_mg_dl: 85", "µmol/L"]),
        ({"genetics": ["TEL-AML2"]}, ["genetics: 'TEL-AML2'", "unknown genetics term"]),
        ({"genetics": ["hypodip"]}, ["did you mean 'hypodiploidy'"]),
        ({"genetics": "KMT2A"}, ["genetics: 'KMT2A'", "expected a list"]),
        ({"abl1_mutations": ["T315"]}, ["abl1_mutations", "protein change like T315I"]),
        ({"modal_chromosome_number": 5}, ["modal_chromosome_number: 5", "20 and 100"]),
        ({"mrd": [{"timepoint": "day99", "value_percent": 0.1}]}, ["mrd.0.timepoint: 'day99'"]),
        (
            {"mrd": [{"timepoint": "end_of_induction", "value_percent": 150}]},
            ["mrd.0.value_percent: 150", "percentage"],
        ),
        (
            {"birth_date": "2020-13-01", "diagnosis_date": "2026-01-01"},
            ["birth_date: '2020-13-01'", "YYYY-MM-DD"],
        ),
        ({"tpmt": "slow"}, ["tpmt: 'slow'", "normal"]),
        ({"sexx": "male"}, ["sexx: 'male'", "unknown field", "did you mean 'sex'"]),
    ],
)
def test_bad_field_messages(pack: ContentPack, fields: dict[str, Any], expected: list[str]) -> None:
    text = " | ".join(problems(pack, **fields))
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def test_every_problem_reported_at_once(pack: ContentPack) -> None:
    found = problems(pack, height_cm=1.5, wbc_x10e9_per_l=90000, lineage="Q")
    assert len(found) == 3


def test_age_required_unless_dates(pack: ContentPack) -> None:
    with pytest.raises(InputError) as info:
        parse_patient({"weight_kg": 20}, pack)
    assert "age is required" in str(info.value)
    p = parse_patient({"birth_date": "2020-01-01", "diagnosis_date": "2026-01-01"}, pack)
    assert p.age == pytest.approx(6, abs=0.01)


def test_missing_fields_stay_unknown(pack: ContentPack) -> None:
    p = parse_patient({"age_years": 6}, pack)
    assert p.wbc_x10e9_per_l is None and p.has_genetic("ETV6::RUNX1") is None


def test_genetics_aliases_normalised(pack: ContentPack) -> None:
    p = parse_patient({"age_years": 6, "genetics": ["TEL-AML1", "mll"]}, pack)
    assert p.genetics == ["ETV6::RUNX1", "KMT2A_rearranged"]


def test_inconsistent_age_and_dates(pack: ContentPack) -> None:
    text = " ".join(
        problems(pack, age_years=3, birth_date="2010-01-01", diagnosis_date="2026-01-01")
    )
    assert "does not match" in text

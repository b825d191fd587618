"""`allguide plan --fhir` and `--format fhir` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allguide.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
runner = CliRunner()


@pytest.mark.parametrize("name", ["child-b-all", "adult-ph-positive"])
def test_fhir_bundle_gives_the_same_plan_as_the_equivalent_yaml(name: str) -> None:
    args = ["--format", "json", "--start-date", "2026-03-02"]
    from_fhir = runner.invoke(app, ["plan", "--fhir", str(EXAMPLES / f"{name}-bundle.json"), *args])
    assert from_fhir.exit_code == 0, from_fhir.output
    from_yaml = runner.invoke(app, ["plan", str(EXAMPLES / f"{name}-equivalent.yaml"), *args])
    assert from_yaml.exit_code == 0, from_yaml.output
    assert from_fhir.stdout == from_yaml.stdout


def test_unused_elements_are_printed_as_notes() -> None:
    result = runner.invoke(app, ["plan", "--fhir", str(EXAMPLES / "child-b-all-bundle.json")])
    assert result.exit_code == 0
    assert "note: info: Observation/plt-1.code: not used" in result.stderr
    assert "not a medical order" in result.stdout


def test_broken_bundle_exits_2_with_named_problems() -> None:
    result = runner.invoke(app, ["plan", "--fhir", str(EXAMPLES / "malformed-bundle.json")])
    assert result.exit_code == 2
    err = result.stderr
    assert "no plan was built" in err
    assert "Observation/wbc-percent.valueQuantity.code" in err and "'%'" in err
    assert "Observation/weight-mg.valueQuantity.code" in err
    assert "conflicting bcr_abl1" in err
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"resourceType": "Bundle",,}', "not valid JSON"),
        ('{"resourceType": "Bundle", "entry": []}', "no Patient resource"),
        ("[1, 2]", "expected a FHIR resource"),
    ],
)
def test_unusable_files_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    f = tmp_path / "bundle.json"
    f.write_text(content)
    result = runner.invoke(app, ["plan", "--fhir", str(f)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--fhir", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_as_of_sets_today_for_age(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "2016-03-01"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c",
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91857003"}]},
                }
            },
        ],
    }
    f = tmp_path / "b.json"
    f.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["plan", "--fhir", str(f), "--as-of", "2026-03-01", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["age_years"] == 10
    assert "no diagnosis date found" in result.stderr


def test_format_fhir_writes_a_careplan_bundle() -> None:
    result = runner.invoke(
        app,
        ["plan", str(EXAMPLES / "child-b-all-equivalent.yaml"), "--format", "fhir"],
    )
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types[:2] == ["CarePlan", "RequestGroup"] and "MedicationRequest" in types
    again = runner.invoke(
        app, ["plan", str(EXAMPLES / "child-b-all-equivalent.yaml"), "--format", "fhir"]
    )
    assert again.stdout == result.stdout

"""`allguide check`: exit 0 when it ran, 2 on bad input (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allguide.cli import app

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "examples" / "child-standard-risk.yaml"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps(
            {
                "orders": [
                    {
                        "drug": "vincristine",
                        "dose": {"amount": 2, "unit": "mg"},
                        "route": "intrathecal",
                        "days": [1],
                    }
                ],
                "phase": "induction",
            }
        ),
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_output_exit_0_even_with_critical_findings(orders: Path) -> None:
    code, out, _ = invoke(
        "check", str(orders), "--patient", str(CHILD), "--format", "json", "--today", "2026-11-22"
    )
    assert code == 0
    data = json.loads(out)
    assert {"findings", "checked_rules", "disclaimer"} <= set(data)
    first = data["findings"][0]
    assert (first["severity"], first["code"], first["rule"]) == (
        "critical",
        "VINCA_NOT_IV",
        "route.vinca_iv_only",
    )
    assert first["suggestion"]["route"] == "iv"


def test_text_output_without_patient(orders: Path) -> None:
    code, out, _ = invoke("check", str(orders))
    assert code == 0
    assert "CRITICAL VINCA_NOT_IV" in out and "References" in out


def test_bad_orders_exit_2_naming_field_value_and_expectation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "phase: induction\norders:\n  - {drug: vincristin, dose: {amount: 2, unit: mg}, "
        "route: spinal, days: [1]}\n",
        encoding="utf-8",
    )
    code, out, err = invoke("check", str(bad))
    assert code == 2 and out == ""
    assert "orders[0].drug: 'vincristin': unknown drug; did you mean 'vincristine'?" in err
    assert "orders[0].route: 'spinal': unknown route" in err
    assert "Traceback" not in err


def test_bad_patient_bad_date_and_missing_file_exit_2(orders: Path, tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text('{"age_years": 4, "height_cm": 1.04}', encoding="utf-8")
    code, _, err = invoke("check", str(orders), "--patient", str(patient))
    assert code == 2 and "height_cm" in err and "did you mean 104" in err
    code, _, err = invoke("check", str(orders), "--today", "22/11/2026")
    assert code == 2 and "--today" in err
    code, _, err = invoke("check", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    code, _, err = invoke("check", str(broken))
    assert code == 2 and "not valid JSON" in err

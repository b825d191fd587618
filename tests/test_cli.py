"""The CLI shell: exit codes, clear messages, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allguide.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "child-standard-risk.yaml"
runner = CliRunner()


def test_plan_text_shows_alerts_first_and_disclaimer() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("\nALERTS\n") < out.index("\nRISK\n") < out.index("\nINDUCTION\n")
    assert "not a medical order" in out


def test_plan_json_contract_and_calendar(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["plan", str(EXAMPLE), "--format", "json", "--start-date", "2026-01-05"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    for key in (
        "schema_version",
        "engine_version",
        "content_version",
        "input_digest",
        "population",
        "bsa_m2",
        "risk",
        "missing_data",
        "phases",
        "tki",
        "transplant",
        "alerts",
        "references",
        "disclaimer",
    ):
        assert key in plan
    day1 = plan["calendar"][0]
    assert day1["day"] == 1 and day1["date"] == "2026-01-05"
    assert plan["calendar"][-1]["date"] > "2026-01-05"
    rec = plan["phases"][0]["recommendations"][0]
    assert {"id", "text", "plain_text", "drugs", "rule", "because", "citations"} <= set(rec)


def test_plan_markdown() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--format", "markdown"])
    assert result.exit_code == 0
    assert "## Alerts" in result.stdout and "| drug | route | dose |" in result.stdout


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ("age_years: 5\nheight_cm: 1.1\n", ".yaml", "height_cm: 1.1"),
        ("age_years: [unclosed\n", ".yaml", "not valid YAML"),
        ('{"age_years": 5,,}', ".json", "not valid JSON"),
        ("- just a list\n", ".yaml", "expected a mapping"),
        ("age_years: 5\ngenetics: [BOGUS]\n", ".yaml", "unknown genetics term"),
    ],
)
def test_bad_input_exit_2_without_traceback(
    tmp_path: Path, content: str, suffix: str, expected: str
) -> None:
    f = tmp_path / f"patient{suffix}"
    f.write_text(content)
    result = runner.invoke(app, ["plan", str(f)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_missing_file_and_bad_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--start-date", "05/01/2026"])
    assert (
        result.exit_code == 2 and "--start-date" in result.stderr and "YYYY-MM-DD" in result.stderr
    )


def test_refuses_to_plan_from_broken_content(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "fixtures" / "bad_content"
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--content", str(bad)])
    assert result.exit_code == 2 and "content pack has" in result.stderr


def test_rules_lists_catalog() -> None:
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0 and "stmt.pitfalls.omit_tki" in result.stdout

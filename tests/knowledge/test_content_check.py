"""`content check` finds every kind of problem in one run and names file, item and field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from allguide.cli import app
from allguide.cli.common import run_check

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad_content"


def messages() -> list[str]:
    report, _ = run_check(BAD, today=dt.date(2026, 11, 22))
    return [str(p) for p in report.problems]


def has(fragments: list[str]) -> bool:
    return any(all(f in m for f in fragments) for m in messages())


def test_dangling_citation() -> None:
    assert has(["statements.yaml", "stmt.test.dangling", "[citations]", "ref.missing"])


def test_missing_plain_text() -> None:
    assert has(["stmt.test.no_plain", "[plain_text]", "missing plain-language text"])


def test_approved_without_reviewer() -> None:
    assert has(["stmt.test.approved_no_reviewer", "[review.reviewed_by]", "no reviewer"])


def test_reading_grade_enforced() -> None:
    assert has(["stmt.test.hard_words", "reading grade"])


def test_schema_error_names_item_and_field() -> None:
    assert has(["stmt.test.bad_status", "review.status"])


def test_reference_without_locator() -> None:
    assert has(["references.yaml", "pmid, doi or url"])


def test_duplicate_ids() -> None:
    assert has(["references.yaml", "ref.good", "duplicate id"])


def test_never_route_and_unknown_drug() -> None:
    assert has(["bad-regimen", "drugs.0.route", "must never be given by route 'intrathecal'"])
    assert has(["bad-regimen", "drugs.3.drug", "unknown drug 'unobtainium'"])


def test_unit_errors() -> None:
    assert has(["bad-regimen", "drugs.1.dose.cap.unit", "differs from dose unit"])
    assert has(["bad-regimen", "drugs.4.dose.age_bands", "contiguous"])
    assert has(["bad-regimen", "drugs.4.days", "numbered from 1"])


def test_dose_without_source() -> None:
    assert has(["bad-regimen", "drugs.1.citations", "has no source"])


def test_regimen_cap_above_drug_limit() -> None:
    assert has(["bad-regimen", "drugs.2.dose.cap", "hard limit of 2 mg"])


def test_engine_requirements_reported() -> None:
    assert has(["(engine)", "stmt.cns.prophylaxis_all", "no content file defines it"])


def test_cli_reports_all_grouped_by_file_and_exits_1() -> None:
    result = CliRunner().invoke(app, ["content", "check", "--content", str(BAD), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    files = {p["path"] for p in report["problems"]}
    assert {"statements.yaml", "references.yaml", "regimens/bad.yaml"} <= files
    assert report["errors"] >= 15


def test_real_content_pack_is_clean() -> None:
    result = CliRunner().invoke(app, ["content", "check"])
    assert result.exit_code == 0, result.stdout[-3000:]

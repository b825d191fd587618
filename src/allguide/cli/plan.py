"""`allguide plan` and `allguide rules`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from allguide.cli.common import ContentDir, load_checked_pack, parse_date
from allguide.fhir.intake import patient_from_fhir
from allguide.fhir.plan_out import careplan_json, plan_to_careplan
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentPack
from allguide.patient.intake import InputError, load_patient
from allguide.patient.model import PatientInput
from allguide.planning.catalog import RULES
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json
from allguide.render.plan_text import render_plan


class PlanFormat(StrEnum):
    """`plan` output formats: the common ones plus FHIR R4 (CarePlan bundle)."""

    text = "text"
    markdown = "markdown"
    json = "json"
    fhir = "fhir"


def plan(
    file: Annotated[Path, typer.Argument(help="Patient findings, JSON or YAML")],
    format: Annotated[
        PlanFormat,
        typer.Option("--format", "-f", help="Output format (fhir: a FHIR R4 CarePlan bundle)"),
    ] = PlanFormat.text,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="Day 1 of induction, YYYY-MM-DD")
    ] = None,
    fhir: Annotated[
        bool,
        typer.Option("--fhir", help="FILE is a FHIR R4 Bundle (JSON); see docs/fhir-mapping.md"),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="With --fhir: today's date, YYYY-MM-DD, for age when the bundle has no "
            "diagnosis date and to refuse future-dated results (default: today)",
        ),
    ] = None,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Build a cited, risk-adapted initial treatment plan for one patient."""
    start = parse_date(start_date, "--start-date")
    today = parse_date(as_of, "--as-of") or dt.date.today()  # the shell may read the clock
    pack = load_checked_pack(content)
    if fhir:
        patient = _patient_from_fhir_file(file, pack, today)
    else:
        try:
            patient = load_patient(file, pack)
        except InputError as exc:
            typer.echo(f"error: {file} has {len(exc.problems)} problem(s):", err=True)
            for problem in exc.problems:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(2) from None
    result = build_plan(patient, pack, start_date=start)
    if format == PlanFormat.json:
        sys.stdout.write(plan_to_json(result))
    elif format == PlanFormat.fhir:
        sys.stdout.write(careplan_json(plan_to_careplan(result, pack)))
    else:
        sys.stdout.write(render_plan(result, markdown=format == PlanFormat.markdown))


def _patient_from_fhir_file(file: Path, pack: ContentPack, today: dt.date) -> PatientInput:
    """Read a FHIR bundle; exit 2 listing every problem when a value had to be refused."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        typer.echo(f"error: {file}: no such file", err=True)
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {file}: cannot read: {exc}", err=True)
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        typer.echo(f"error: {file}: not valid JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    intake = patient_from_fhir(data, pack, today=today)
    if intake.patient is None or intake.errors:
        shown = [p for p in intake.problems if p.severity != "info"]
        typer.echo(
            f"error: {file}: the FHIR data has {len(intake.errors)} error(s) "
            f"(and {len(shown) - len(intake.errors)} warning(s)); no plan was built:",
            err=True,
        )
        for problem in shown:
            typer.echo(f"  {problem}", err=True)
        hidden = len(intake.problems) - len(shown)
        if hidden:
            typer.echo(f"  ({hidden} element(s) not used by allguide, listed as info)", err=True)
        raise typer.Exit(2)
    for problem in intake.problems:  # warnings and unused elements: never silent
        typer.echo(f"note: {problem}", err=True)
    return intake.patient


def rules() -> None:
    """List every rule the engine can fire and the statement it serves."""
    for rule_id, rule in RULES.items():
        typer.echo(f"{rule_id}\t{rule.statement}\t{rule.when}")


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("rules")(rules)

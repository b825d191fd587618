"""`allguide plan` and `allguide rules`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from allguide.cli.common import ContentDir, Format, load_checked_pack, parse_date
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR
from allguide.patient.intake import InputError, load_patient
from allguide.planning.catalog import RULES
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json
from allguide.render.plan_text import render_plan


def plan(
    file: Annotated[Path, typer.Argument(help="Patient findings, JSON or YAML")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format")] = Format.text,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="Day 1 of induction, YYYY-MM-DD")
    ] = None,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Build a cited, risk-adapted initial treatment plan for one patient."""
    start = parse_date(start_date, "--start-date")
    pack = load_checked_pack(content)
    try:
        patient = load_patient(file, pack)
    except InputError as exc:
        typer.echo(f"error: {file} has {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None
    result = build_plan(patient, pack, start_date=start)
    if format == Format.json:
        sys.stdout.write(plan_to_json(result))
    else:
        sys.stdout.write(render_plan(result, markdown=format == Format.markdown))


def rules() -> None:
    """List every rule the engine can fire and the statement it serves."""
    for rule_id, rule in RULES.items():
        typer.echo(f"{rule_id}\t{rule.statement}\t{rule.when}")


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("rules")(rules)

"""Command-line shell: parse input, call the core, print. No clinical logic here.

Exit codes: 0 success, 1 content problems found by `content check`, 2 bad input or
unusable content (with a message, never a traceback).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from allguide.knowledge.check import CheckReport, RequiredIds, check_pack
from allguide.knowledge.pack import (
    DEFAULT_CONTENT_DIR,
    ContentError,
    ContentPack,
    assemble,
    parse_pack,
)
from allguide.patient.intake import InputError, load_patient
from allguide.planning.catalog import RULES, requirements
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json
from allguide.render.plan_text import render_plan

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="allguide: cited, risk-adapted initial treatment guidance for ALL "
    "(decision support for professionals, not an order).",
)
content_app = typer.Typer(no_args_is_help=True, help="Validate and export the content pack.")
app.add_typer(content_app, name="content")

ContentDir = Annotated[
    Path,
    typer.Option(
        "--content", help="Content pack directory", envvar="ALLGUIDE_CONTENT", file_okay=False
    ),
]


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def engine_requirements() -> RequiredIds:
    """Ids the engine uses; content check fails when one is missing."""
    statements, regimens, thresholds = requirements()
    return RequiredIds(statements=statements, regimens=regimens, thresholds=thresholds)


def run_check(content: Path, today: dt.date | None = None) -> tuple[CheckReport, ContentPack]:
    parsed, version = parse_pack(content)
    report = check_pack(parsed, version, required=engine_requirements(), today=today)
    return report, report.pack


def load_checked_pack(content: Path) -> ContentPack:
    """Start-up check: refuse to plan from content with errors (exit 2, listing them)."""
    if not content.is_dir():
        _fail(f"content directory not found: {content}")
    report, pack = run_check(content)
    if report.errors:
        typer.echo(
            f"content pack has {len(report.errors)} error(s); run "
            "'allguide content check' for details. First ones:",
            err=True,
        )
        for p in report.errors[:10]:
            typer.echo(f"  {p}", err=True)
        raise typer.Exit(2)
    return pack


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _parse_date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: '{value}' is not a date; expected YYYY-MM-DD (e.g. 2026-01-05)")
    return None


@app.command()
def plan(
    file: Annotated[Path, typer.Argument(help="Patient findings, JSON or YAML")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format")] = Format.text,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="Day 1 of induction, YYYY-MM-DD")
    ] = None,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Build a cited, risk-adapted initial treatment plan for one patient."""
    start = _parse_date(start_date, "--start-date")
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


@content_app.command("check")
def content_check(
    content: ContentDir = DEFAULT_CONTENT_DIR,
    today: Annotated[
        str | None, typer.Option(help="Date for overdue-review warnings, YYYY-MM-DD")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report")] = False,
) -> None:
    """Validate every content file and report every problem, grouped by file."""
    if not content.is_dir():
        _fail(f"content directory not found: {content}")
    report, _ = run_check(content, _parse_date(today, "--today"))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "content_version": report.version,
                    "counts": report.counts,
                    "errors": len(report.errors),
                    "warnings": len(report.warnings),
                    "problems": [p.__dict__ for p in report.problems],
                },
                indent=2,
            )
        )
    else:
        for path, problems in report.by_file().items():
            typer.echo(f"{path}")
            for p in problems:
                where = " ".join(x for x in (p.item_id, f"[{p.field}]" if p.field else "") if x)
                typer.echo(
                    f"  {p.severity}: {where}: {p.message}"
                    if where
                    else f"  {p.severity}: {p.message}"
                )
        counts = ", ".join(f"{n} {k}" for k, n in report.counts.items())
        typer.echo(f"content {report.version}: {counts}")
        typer.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if report.errors:
        raise typer.Exit(1)


@content_app.command("export-schemas")
def export_schemas(
    out: Annotated[Path, typer.Option(help="Directory for content schemas")] = (
        DEFAULT_CONTENT_DIR / "schemas"
    ),
) -> None:
    """Write JSON Schemas (content kinds, patient input, plan) and the generated docs."""
    from allguide.docsgen import write_docs
    from allguide.schemas_export import DOCS_DIR, write_schemas

    parsed, version = parse_pack(DEFAULT_CONTENT_DIR)
    pack, _ = assemble(parsed, version)
    for path in [*write_schemas(out), *write_docs(pack, DOCS_DIR)]:
        typer.echo(str(path))


@app.command("rules")
def rules() -> None:
    """List every rule the engine can fire and the statement it serves."""
    for rule_id, rule in RULES.items():
        typer.echo(f"{rule_id}\t{rule.statement}\t{rule.when}")


def main() -> None:
    try:
        app()
    except ContentError as exc:
        typer.echo("error: content pack problems:", err=True)
        for p in exc.problems:
            typer.echo(f"  {p}", err=True)
        sys.exit(2)

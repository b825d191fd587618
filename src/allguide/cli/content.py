"""`allguide content check` and `allguide content export-schemas`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from allguide.cli.common import ContentDir, fail, parse_date, run_check
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, assemble, parse_pack


def content_check(
    content: ContentDir = DEFAULT_CONTENT_DIR,
    today: Annotated[
        str | None, typer.Option(help="Date for overdue-review warnings, YYYY-MM-DD")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report")] = False,
) -> None:
    """Validate every content file and report every problem, grouped by file."""
    if not content.is_dir():
        fail(f"content directory not found: {content}")
    report, _ = run_check(content, parse_date(today, "--today"))
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


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    content_app.command("check")(content_check)
    content_app.command("export-schemas")(export_schemas)

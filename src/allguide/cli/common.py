"""Shared pieces of the command-line shell: options, content loading, error exits.

Exit codes: 0 success, 1 content problems found by `content check`, 2 bad input or
unusable content (with a message, never a traceback).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from allguide.knowledge.check import CheckReport, RequiredIds, check_pack
from allguide.knowledge.pack import ContentPack, parse_pack
from allguide.planning.catalog import requirements

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
    from allguide.safety.catalog import requirements as order_check_requirements

    statements, regimens, thresholds = requirements()
    check_statements, check_thresholds, check_drugs = order_check_requirements()
    return RequiredIds(
        statements=statements | check_statements,
        regimens=regimens,
        thresholds=thresholds | check_thresholds,
        drugs=check_drugs,
    )


def run_check(content: Path, today: dt.date | None = None) -> tuple[CheckReport, ContentPack]:
    parsed, version = parse_pack(content)
    report = check_pack(parsed, version, required=engine_requirements(), today=today)
    return report, report.pack


def load_checked_pack(content: Path) -> ContentPack:
    """Start-up check: refuse to work from content with errors (exit 2, listing them)."""
    if not content.is_dir():
        fail(f"content directory not found: {content}")
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


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def parse_date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: '{value}' is not a date; expected YYYY-MM-DD (e.g. 2026-01-05)")

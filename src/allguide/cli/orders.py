"""`allguide check ORDERS --patient FILE`: check proposed orders against cited content.

Exit 0 when the check ran, whatever it found (findings are data, not failures); 2 on bad
input, with a message naming the field, the value and what is expected.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from allguide.cli.common import ContentDir, load_checked_pack, parse_date
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR
from allguide.patient.intake import InputError, load_patient, read_patient_file
from allguide.patient.model import PatientInput
from allguide.safety import check_orders, parse_order_set, render_text, result_to_json


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


def _bad_input(source: Path, exc: InputError) -> typer.Exit:
    typer.echo(f"error: {source} has {len(exc.problems)} problem(s):", err=True)
    for problem in exc.problems:
        typer.echo(f"  {problem}", err=True)
    return typer.Exit(2)


def check(
    orders: Annotated[Path, typer.Argument(help="Proposed orders, JSON or YAML")],
    patient: Annotated[
        Path | None,
        typer.Option(
            "--patient",
            "-p",
            help="Patient findings (JSON or YAML); without it, patient checks say they did not run",
        ),
    ] = None,
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format")
    ] = CheckFormat.text,
    today: Annotated[
        str | None, typer.Option("--today", help="Date of the check, YYYY-MM-DD (default: today)")
    ] = None,
    content: ContentDir = DEFAULT_CONTENT_DIR,
) -> None:
    """Check proposed chemotherapy orders (route, caps, doses, interactions, missing drugs)."""
    day = parse_date(today, "--today") or dt.date.today()  # the shell owns the clock
    pack = load_checked_pack(content)
    try:
        order_set = parse_order_set(read_patient_file(orders), pack)
    except InputError as exc:
        raise _bad_input(orders, exc) from None
    patient_input: PatientInput | None = None
    if patient is not None:
        try:
            patient_input = load_patient(patient, pack)
        except InputError as exc:
            raise _bad_input(patient, exc) from None
    result = check_orders(order_set, patient_input, pack, today=day)
    if format == CheckFormat.json:
        sys.stdout.write(result_to_json(result))
    else:
        sys.stdout.write(render_text(result))


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    """Add `allguide check` to the app."""
    app.command("check")(check)

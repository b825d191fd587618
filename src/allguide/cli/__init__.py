"""Command-line shell: parse input, call the core, print. No clinical logic here.

One module per command group; each has `register(app, content_app)`.
Exit codes: 0 success, 1 content problems found by `content check`, 2 bad input or
unusable content (with a message, never a traceback).
"""

from __future__ import annotations

import sys

import typer

from allguide.cli import admin, ask, content, orders, plan, serve
from allguide.knowledge.pack import ContentError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="allguide: cited, risk-adapted initial treatment guidance for ALL "
    "(decision support for professionals, not an order).",
)
content_app = typer.Typer(no_args_is_help=True, help="Validate and export the content pack.")
app.add_typer(content_app, name="content")

for _module in (plan, content, ask, orders, serve, admin):
    _module.register(app, content_app)


def main() -> None:
    try:
        app()
    except ContentError as exc:
        typer.echo("error: content pack problems:", err=True)
        for p in exc.problems:
            typer.echo(f"  {p}", err=True)
        sys.exit(2)

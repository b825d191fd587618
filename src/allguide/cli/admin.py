"""Commands of this group are registered here (placeholder until the feature lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    """Add this module's commands to the app."""

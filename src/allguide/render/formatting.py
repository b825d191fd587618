"""Small formatting helpers shared by every plan renderer (text, Markdown, PDF, HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from allguide.planning.plan import Amount, DrugDose

PHASE_TITLES = {
    "prephase": "Prephase",
    "induction": "Induction",
    "cns": "CNS-directed therapy",
    "supportive": "Supportive care",
    "consolidation": "Consolidation",
    "maintenance": "Maintenance",
    "transplant": "Transplant",
}

# How a route is written for readers (the pack's ids are lowercase codes).
ROUTE_LABELS = {
    "iv": "IV",
    "im": "IM",
    "sc": "SC",
    "po": "oral",
    "intrathecal": "intrathecal",
    "intraventricular": "intraventricular",
}


def route_label(route: str) -> str:
    return ROUTE_LABELS.get(route, route)


def number(value: Decimal | int | float | None) -> str:
    """Decimal without trailing zeros or exponent: 4.10 → 4.1, 1E+1 → 10; None → '—'."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def amount_text(a: Amount | None) -> str:
    if a is None or a.amount is None:
        return "per protocol"
    return f"{number(a.amount)} {a.unit}"


def given_dose(d: DrugDose) -> str:
    """The dose as given, with the daily split; the cap is shown by the caller."""
    if d.dose is None:
        return "per protocol"
    text = amount_text(d.dose)
    if d.per == "day":
        text += "/day"
        if d.divided_doses > 1 and d.per_divided_dose is not None:
            text += f" ({d.divided_doses} × {number(d.per_divided_dose)} {d.dose.unit})"
    return text


def day_runs(days: Sequence[int]) -> str:
    """[1, 2, 3, 8] → '1–3, 8'."""
    if not days:
        return ""
    runs: list[str] = []
    start = prev = days[0]
    for d in [*days[1:], None]:
        if d is not None and d == prev + 1:
            prev = d
            continue
        runs.append(str(start) if start == prev else f"{start}–{prev}")
        if d is not None:
            start = prev = d
    return ", ".join(runs)

"""Jinja2 environment for the server-rendered pages: filters, globals and `render()`.

Autoescaping is on for every template. Formatting of plan values (doses, day runs,
numbers) lives here so templates never do arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from allguide.render.formatting import PHASE_TITLES, ROUTE_LABELS, day_runs
from allguide.render.formatting import amount_text as amount
from allguide.render.formatting import given_dose as dose_text
from allguide.render.formatting import number as num
from allguide.web.security import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

REVIEW_LABELS = {
    "draft": "Pending review (draft)",
    "submitted": "Submitted for review",
    "under_review": "Under review",
    "approved": "Approved",
    "retired": "Retired",
    "pending review": "Pending review",
    "rejected": "Changes requested",
}
# Steps shown on answer, article and plan pages (as on the editorial-board sources).
REVIEW_STEPS = (
    ("submitted", "Submitted"),
    ("under_review", "Under review"),
    ("approved", "Approved"),
)


def review_label(status: str | None) -> str:
    if not status:
        return "Pending review"
    return REVIEW_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


def badge_class(status: str | None) -> str:
    s = str(status or "pending").replace(" ", "_")
    if s == "pending_review":
        s = "pending"
    return f"badge badge-{s}"


def is_approved(status: str | None) -> bool:
    return str(status) == "approved"


def long_date(value: dt.date | dt.datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            parsed = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return f"{parsed.strftime('%B')} {parsed.day}, {parsed.year}"
    return f"{value.strftime('%B')} {value.day}, {value.year}"


def cite_links(numbers: Iterable[int | str], prefix: str = "ref-") -> Markup:
    """Superscript citation links: [1, 3] → <sup>[<a href="#ref-1">1</a>, <a …>3</a>]</sup>."""
    links = [
        f'<a href="#{escape(prefix)}{escape(n)}" aria-label="reference {escape(n)}">{escape(n)}</a>'
        for n in numbers
    ]
    if not links:
        return Markup("")
    return Markup('<sup class="cite">[' + ", ".join(links) + "]</sup>")


def ref_numbers(ids: Iterable[str], numbering: Mapping[str, int]) -> list[int]:
    return [numbering[i] for i in ids if i in numbering]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=num,
        amount=amount,
        dose_text=dose_text,
        day_runs=day_runs,
        review_label=review_label,
        badge_class=badge_class,
        long_date=long_date,
        cite_links=cite_links,
    )
    env.globals.update(
        PHASE_TITLES=PHASE_TITLES,
        ROUTE_LABELS=ROUTE_LABELS,
        REVIEW_STEPS=REVIEW_STEPS,
        is_approved=is_approved,
        ref_numbers=ref_numbers,
    )
    return env


ENV = _environment()

NAV = (
    ("/", "Ask"),
    ("/plans/new", "Plan builder"),
    ("/articles", "Articles"),
    ("/statements", "Statements"),
    ("/regimens", "Regimens"),
    ("/glossary", "Glossary"),
)


class _LazyCsrfToken:
    """The session's CSRF token, created only if a template actually prints it.

    Pages without forms (answers, articles, browsers) then set no session cookie for
    anonymous readers.
    """

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request) if "session" in self.request.scope else ""

    def __html__(self) -> str:
        return str(escape(str(self)))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with the shared context (navigation, CSRF token, signed-in user)."""
    path = request.url.path
    current = next(
        (href for href, _ in sorted(NAV, key=lambda n: -len(n[0])) if path.startswith(href)),
        "/",
    )
    base: dict[str, Any] = {
        "request": request,
        "nav": NAV,
        "nav_current": current if current != "/" or path == "/" else None,
        "csrf_token": _LazyCsrfToken(request),
        "user": getattr(request.state, "user", None),
    }
    base.update(context or {})
    html = ENV.get_template(template).render(base)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))

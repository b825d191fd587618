"""Content browsers: glossary, regimens and statements, each with its review status."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import ReviewStatus
from allguide.planning.engine import DISCLAIMER
from allguide.web.deps import get_pack
from allguide.web.errors import NotFound
from allguide.web.pages.templating import render
from allguide.web.pages.views import numbered_refs

router = APIRouter(include_in_schema=False)

Pack = Annotated[ContentPack, Depends(get_pack)]
_PHASE_ORDER = ("prephase", "induction", "cns", "consolidation", "maintenance", "transplant")


@router.get("/glossary", response_class=HTMLResponse)
def glossary(request: Request, pack: Pack) -> HTMLResponse:
    entries = sorted(pack.glossary.values(), key=lambda e: e.term.lower())
    groups = [
        (letter, list(items))
        for letter, items in groupby(entries, key=lambda e: e.term[:1].upper())
    ]
    refs, refnum = numbered_refs(pack, (c for e in entries for c in e.citations))
    return render(
        request,
        "glossary.html",
        {
            "groups": groups,
            "letters": [g[0] for g in groups],
            "refs": refs,
            "refnum": refnum,
        },
    )


@router.get("/regimens", response_class=HTMLResponse)
def regimens(request: Request, pack: Pack) -> HTMLResponse:
    def phase_key(phase: str) -> int:
        return _PHASE_ORDER.index(phase) if phase in _PHASE_ORDER else len(_PHASE_ORDER)

    by_phase: dict[str, list[object]] = {}
    for regimen in sorted(pack.regimens.values(), key=lambda r: r.name.lower()):
        by_phase.setdefault(regimen.phases[0].value, []).append(regimen)
    groups = sorted(by_phase.items(), key=lambda kv: phase_key(kv[0]))
    return render(request, "regimens.html", {"groups": groups})


@router.get("/regimens/{regimen_id}", response_class=HTMLResponse)
def regimen(request: Request, regimen_id: str, pack: Pack) -> HTMLResponse:
    item = pack.regimens.get(regimen_id)
    if item is None:
        raise NotFound(f"no regimen '{regimen_id}'; see the list of regimens at /regimens")
    ids = [*item.citations]
    for line in item.drugs:
        ids += line.citations
        ids += [c for alt in line.alternatives for c in alt.citations]
    ids += [c for alt in item.alternatives for c in alt.citations]
    refs, refnum = numbered_refs(pack, ids)
    return render(
        request,
        "regimen.html",
        {"r": item, "refs": refs, "refnum": refnum, "disclaimer_text": DISCLAIMER},
    )


@router.get("/statements", response_class=HTMLResponse)
def statements(request: Request, pack: Pack, q: str = "", status: str = "") -> HTMLResponse:
    query = q.strip().lower()
    items = [
        s
        for s in pack.statements.values()
        if (not status or s.review.status.value == status)
        and (
            not query
            or query in s.title.lower()
            or query in s.clinician_text.lower()
            or query in s.plain_text.lower()
            or any(query in k.lower() for k in s.keywords)
        )
    ]
    items.sort(key=lambda s: (s.topic, s.title.lower()))
    groups = [(topic, list(group)) for topic, group in groupby(items, key=lambda s: s.topic)]
    return render(
        request,
        "statements.html",
        {
            "groups": groups,
            "count": len(items),
            "q": q,
            "status": status,
            "statuses": [s.value for s in ReviewStatus],
        },
    )


@router.get("/statements/{statement_id}", response_class=HTMLResponse)
def statement(request: Request, statement_id: str, pack: Pack) -> HTMLResponse:
    item = pack.statements.get(statement_id)
    if item is None:
        raise NotFound(f"no statement '{statement_id}'; see the list at /statements")
    ids = [*item.citations, *(c for alt in item.alternatives for c in alt.citations)]
    refs, refnum = numbered_refs(pack, ids)
    return render(
        request,
        "statement.html",
        {
            "s": item,
            "refs": refs,
            "refnum": refnum,
            "disclaimer_text": DISCLAIMER,
            "pending_note": None,
        },
    )

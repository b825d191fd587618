"""Read-only content: statements, regimens, glossary, topic articles, content versions.

Everything comes from the served content version and says its review status; draft
items are listed ("pending review"), never hidden.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from allguide.ask import ARTICLE_TOPICS, Article, AskInputError, build_article
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import (
    GlossaryEntry,
    Reference,
    Regimen,
    ReviewStatus,
    Statement,
)
from allguide.store import ContentRepository
from allguide.web.api.schemas import Audience, Page
from allguide.web.deps import DbSession, get_pack
from allguide.web.errors import NotFound, error_responses

router = APIRouter()
Pack = Annotated[ContentPack, Depends(get_pack)]


class StatementDetail(BaseModel):
    content_version: str
    statement: Statement
    references: list[Reference] = Field(description="The cited references, in citation order")


class RegimenDetail(BaseModel):
    content_version: str
    regimen: Regimen
    references: list[Reference]


class ArticleTopic(BaseModel):
    id: str
    title: str
    url: str


class ContentVersionOut(BaseModel):
    digest: str = Field(description="The content version (a digest of the served files)")
    created_at: str
    created_by: str
    note: str | None
    item_count: int
    current: bool


def _refs(pack: ContentPack, ids: list[str]) -> list[Reference]:
    seen: dict[str, Reference] = {}
    for ref_id in ids:
        if ref_id in pack.references and ref_id not in seen:
            seen[ref_id] = pack.references[ref_id]
    return list(seen.values())


# --- statements -------------------------------------------------------------------------------


@router.get("/statements", tags=["Content"], summary="Guideline statements")
def list_statements(
    pack: Pack,
    topic: Annotated[str | None, Query(max_length=100, description="e.g. induction")] = None,
    status: Annotated[ReviewStatus | None, Query(description="Review status")] = None,
) -> Page[Statement]:
    items = [
        s
        for s in pack.statements.values()
        if (topic is None or s.topic == topic) and (status is None or s.review.status == status)
    ]
    return Page[Statement](content_version=pack.version, count=len(items), items=items)


@router.get(
    "/statements/{statement_id}",
    tags=["Content"],
    summary="One statement with its references",
    responses=error_responses(404),
)
def get_statement(pack: Pack, statement_id: str) -> StatementDetail:
    statement = pack.statements.get(statement_id)
    if statement is None:
        raise NotFound(f"no statement '{statement_id}' in content version {pack.version}")
    refs = list(statement.citations)
    for alt in statement.alternatives:
        refs.extend(alt.citations)
    return StatementDetail(
        content_version=pack.version, statement=statement, references=_refs(pack, refs)
    )


# --- regimens ---------------------------------------------------------------------------------


@router.get("/regimens", tags=["Content"], summary="Regimens")
def list_regimens(
    pack: Pack,
    phase: Annotated[str | None, Query(max_length=40, description="e.g. induction")] = None,
) -> Page[Regimen]:
    items = [r for r in pack.regimens.values() if phase is None or phase in r.phases]
    return Page[Regimen](content_version=pack.version, count=len(items), items=items)


@router.get(
    "/regimens/{regimen_id}",
    tags=["Content"],
    summary="One regimen with its references",
    responses=error_responses(404),
)
def get_regimen(pack: Pack, regimen_id: str) -> RegimenDetail:
    regimen = pack.regimens.get(regimen_id)
    if regimen is None:
        raise NotFound(f"no regimen '{regimen_id}' in content version {pack.version}")
    refs = list(regimen.citations)
    for line in regimen.drugs:
        refs.extend(line.citations)
    return RegimenDetail(
        content_version=pack.version, regimen=regimen, references=_refs(pack, refs)
    )


# --- glossary ---------------------------------------------------------------------------------


@router.get("/glossary", tags=["Content"], summary="Glossary of terms, in plain language")
def list_glossary(pack: Pack) -> Page[GlossaryEntry]:
    items = sorted(pack.glossary.values(), key=lambda g: g.term.lower())
    return Page[GlossaryEntry](content_version=pack.version, count=len(items), items=items)


# --- articles ---------------------------------------------------------------------------------


@router.get("/articles", tags=["Ask"], summary="Topic articles")
def list_articles(pack: Pack) -> Page[ArticleTopic]:
    items = [
        ArticleTopic(id=t, title=pack.articles[t].title, url=f"/api/v1/articles/{t}")
        for t in ARTICLE_TOPICS
        if t in pack.articles
    ]
    return Page[ArticleTopic](content_version=pack.version, count=len(items), items=items)


@router.get(
    "/articles/{topic}",
    tags=["Ask"],
    summary="A topic article for clinicians or for patients and families",
    responses=error_responses(404, 422),
)
def get_article(
    pack: Pack,
    topic: Annotated[str, Path(max_length=100)],
    audience: Audience = "clinician",
) -> Article:
    if topic not in pack.articles:
        raise NotFound(
            f"no article '{topic}'; topics: {', '.join(sorted(pack.articles)) or 'none'}"
        )
    try:
        return build_article(topic, pack, "patient" if audience == "family" else audience)
    except AskInputError as exc:
        raise NotFound(str(exc)) from None


# --- content versions -------------------------------------------------------------------------


@router.get("/content-versions", tags=["Content"], summary="Served content versions, newest first")
def list_content_versions(
    pack: Pack,
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[ContentVersionOut]:
    rows = ContentRepository(db).content_versions(limit=limit, offset=offset)
    items = [
        ContentVersionOut(
            digest=r.digest,
            created_at=r.created_at.isoformat(),
            created_by=r.created_by,
            note=r.note,
            item_count=r.item_count,
            current=r.digest == pack.version,
        )
        for r in rows
    ]
    return Page[ContentVersionOut](content_version=pack.version, count=len(items), items=items)

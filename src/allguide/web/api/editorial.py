"""Editorial workflow over the API (API token required): draft → submit → approve/reject,
retire, history, audit log.

The rules (who may do what, two-person review) live in `allguide.editorial`; this module
maps them to HTTP: refused for the role or person → 403, wrong state → 409, unknown
item → 404, invalid content → 422 listing every problem. Approving or retiring changes
the served content version at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from allguide.accounts import Role
from allguide.editorial import EditorialService, WorkflowError
from allguide.knowledge.schemas import ITEM_MODELS
from allguide.store import AuditLog, ContentRepository, UserRecord
from allguide.web.api.body import body_doc, json_body, validated
from allguide.web.api.schemas import DraftRequest, EditorialComment
from allguide.web.deps import DbSession, refresh_content, require_role, require_user
from allguide.web.errors import (
    ApiError,
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    error_responses,
)
from allguide.web.security import limit_writes

router = APIRouter(prefix="/editorial", tags=["Editorial"])
audit_router = APIRouter(tags=["Editorial"])

KINDS = tuple(ITEM_MODELS)
Kind = Annotated[str, Path(pattern="^(" + "|".join(KINDS) + ")$", description="Content kind")]
ItemId = Annotated[str, Path(min_length=1, max_length=200)]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="Version number")]
User = Annotated[UserRecord, Depends(require_user)]
AUTH_ERRORS = (401, 403, 404, 409, 422, 429)


class ItemVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    item_id: str
    number: int
    label: str
    data: dict[str, Any] = Field(description="The item as written (JSON form)")
    status: str
    author: str
    created_at: dt.datetime
    note: str | None
    imported: bool
    submitted_by: str | None
    submitted_at: dt.datetime | None
    reviewer: str | None
    review_comment: str | None
    reviewed_at: dt.datetime | None
    served: bool


class ItemSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    item_id: str
    path: str
    title: str
    served_number: int | None
    served_status: str | None
    latest_number: int
    latest_status: str
    latest_author: str
    latest_created_at: dt.datetime


class PublishedOut(BaseModel):
    """The result of approving or retiring: the new served content version."""

    content_version: str
    version: ItemVersionOut | None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    count: int
    chain_ok: bool = Field(description="The hash chain verified intact from the first entry")
    items: list[AuditOut]


def _http(exc: WorkflowError) -> ApiError:
    if exc.code == "forbidden":
        return Forbidden(exc.message)
    if exc.code == "not_found":
        return NotFound(exc.message)
    if exc.code == "invalid":
        return InvalidInput(
            exc.message,
            fields=[_problem_field(p) for p in exc.problems],
        )
    return Conflict(exc.message)


def _problem_field(problem: str) -> FieldProblem:
    where, sep, message = problem.partition(": ")
    if not sep or " " in where.strip():
        return FieldProblem(field="item", value=None, expected=problem)
    return FieldProblem(field=f"item.{where}", value=None, expected=message)


async def editorial_comment(request: Request) -> EditorialComment:
    """The optional JSON body of submit, approve, reject and retire: `{"comment": ...}`."""
    if not (await request.body()).strip():
        return EditorialComment()
    return validated(EditorialComment, await json_body(request))


Comment = Annotated[EditorialComment, Depends(editorial_comment)]


def _version(service: EditorialService, kind: str, item_id: str, number: int) -> ItemVersionOut:
    return ItemVersionOut.model_validate(service.version(kind, item_id, number))


# --- reading ----------------------------------------------------------------------------------


@router.get(
    "/items",
    summary="Content items with their served and latest versions",
    responses=error_responses(401, 422),
)
def list_items(
    db: DbSession,
    user: User,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(KINDS) + ")$")] = None,
) -> list[ItemSummaryOut]:
    return [ItemSummaryOut.model_validate(s) for s in ContentRepository(db).items(kind)]


@router.get(
    "/items/{kind}/{item_id}/history",
    summary="Every version of an item, oldest first",
    responses=error_responses(401, 404, 422),
)
def history(db: DbSession, user: User, kind: Kind, item_id: ItemId) -> list[ItemVersionOut]:
    try:
        versions = EditorialService(db).history(kind, item_id)
    except WorkflowError as exc:
        raise _http(exc) from None
    return [ItemVersionOut.model_validate(v) for v in versions]


# --- writing ----------------------------------------------------------------------------------


@router.post(
    "/items/{kind}/{item_id}/drafts",
    status_code=201,
    summary="Write a new draft version (authors, admins)",
    responses=error_responses(*AUTH_ERRORS),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("DraftRequest"),
)
def create_draft(
    db: DbSession,
    user: User,
    kind: Kind,
    item_id: ItemId,
    body: Annotated[Any, Depends(json_body)],
) -> ItemVersionOut:
    """The served version keeps being served until this draft is approved."""
    payload = validated(DraftRequest, body)
    try:
        version = EditorialService(db).edit(user, kind, item_id, payload.item, note=payload.comment)
    except WorkflowError as exc:
        raise _http(exc) from None
    return ItemVersionOut.model_validate(version)


@router.post(
    "/items/{kind}/{item_id}/versions/{number}/submit",
    summary="Submit a draft for review (its author, or an admin)",
    responses=error_responses(*AUTH_ERRORS),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("EditorialComment", required=False),
)
def submit(
    db: DbSession,
    user: User,
    kind: Kind,
    item_id: ItemId,
    number: Number,
    comment: Comment,
) -> ItemVersionOut:
    try:
        version = EditorialService(db).submit(user, kind, item_id, number)
    except WorkflowError as exc:
        raise _http(exc) from None
    return ItemVersionOut.model_validate(version)


@router.post(
    "/items/{kind}/{item_id}/versions/{number}/approve",
    summary="Approve a submitted version (a reviewer who is not its author)",
    responses=error_responses(*AUTH_ERRORS),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("EditorialComment", required=False),
)
def approve(
    request: Request,
    db: DbSession,
    user: User,
    kind: Kind,
    item_id: ItemId,
    number: Number,
    comment: Comment,
) -> PublishedOut:
    """The approved version is served from the response on."""
    service = EditorialService(db)
    try:
        published = service.approve(user, kind, item_id, number, comment.comment)
    except WorkflowError as exc:
        raise _http(exc) from None
    version = _version(service, kind, item_id, number)
    db.commit()  # publish before swapping the served content in
    refresh_content(request)
    return PublishedOut(content_version=published.digest, version=version)


@router.post(
    "/items/{kind}/{item_id}/versions/{number}/reject",
    summary="Send a submitted version back to its author, with a comment",
    responses=error_responses(*AUTH_ERRORS),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("EditorialComment", required=False),
)
def reject(
    db: DbSession,
    user: User,
    kind: Kind,
    item_id: ItemId,
    number: Number,
    comment: Comment,
) -> ItemVersionOut:
    try:
        version = EditorialService(db).reject(user, kind, item_id, number, comment.comment or "")
    except WorkflowError as exc:
        raise _http(exc) from None
    return ItemVersionOut.model_validate(version)


@router.post(
    "/items/{kind}/{item_id}/retire",
    summary="Stop serving an item (reviewers, admins; a comment is required)",
    responses=error_responses(*AUTH_ERRORS),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("EditorialComment", required=False),
)
def retire(
    request: Request,
    db: DbSession,
    user: User,
    kind: Kind,
    item_id: ItemId,
    comment: Comment,
) -> PublishedOut:
    try:
        published = EditorialService(db).retire(user, kind, item_id, comment.comment or "")
    except WorkflowError as exc:
        raise _http(exc) from None
    db.commit()
    refresh_content(request)
    return PublishedOut(content_version=published.digest, version=None)


# --- audit ------------------------------------------------------------------------------------


@audit_router.get(
    "/audit",
    summary="The audit log, newest first (reviewers, admins)",
    responses=error_responses(401, 403, 422),
)
def audit(
    db: DbSession,
    user: Annotated[UserRecord, Depends(require_role(Role.reviewer, Role.admin))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=300)] = None,
) -> AuditPage:
    log = AuditLog(db)
    rows = log.entries(limit=limit, offset=offset, actor=actor, action=action, target=target)
    ok, _ = log.verify()
    items = [AuditOut.model_validate(r) for r in rows]
    return AuditPage(count=len(items), chain_ok=ok, items=items)

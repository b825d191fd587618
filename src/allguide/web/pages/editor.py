"""Editorial pages: sign in, dashboard, edit → submit → review, history with diffs, audit log.

Every rule (who may edit, submit, approve; reviewer ≠ author) is enforced by
`EditorialService`; these pages only show what the signed-in user may do and explain a
refusal beside the form, keeping what was typed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from allguide.accounts.roles import Role, can_edit, can_review
from allguide.editorial import Action, EditorialService, WorkflowError
from allguide.knowledge.schemas import ITEM_MODELS
from allguide.store import AuditLog, ContentRepository, ItemSummary, ItemVersionRecord, UserRecord
from allguide.web.deps import DbSession, refresh_content
from allguide.web.errors import NotFound
from allguide.web.pages.session import page_user, sign_in, sign_out
from allguide.web.pages.templating import render
from allguide.web.security import limit_login, limit_writes, verify_csrf

router = APIRouter(include_in_schema=False)
Db = DbSession

KINDS = ("statements", "regimens", "drugs", "glossary", "genetics", "thresholds", "references")


@dataclass(frozen=True)
class TextField:
    name: str
    label: str
    multiline: bool
    hint: str | None = None


# The fields an editor changes most; anything else via "edit as YAML".
TEXT_FIELDS: dict[str, tuple[TextField, ...]] = {
    "statements": (
        TextField("title", "Title", False),
        TextField("clinician_text", "Text for health professionals", True),
        TextField(
            "plain_text",
            "Plain-language text",
            True,
            "For patients and families: reading grade 8 or lower, short sentences.",
        ),
    ),
    "glossary": (
        TextField("term", "Term", False),
        TextField("definition", "Definition", True, "Reading grade 8 or lower."),
    ),
    "regimens": (
        TextField("name", "Name", False),
        TextField("summary", "Summary", True),
        TextField("plain_text", "Plain-language text", True, "Reading grade 8 or lower."),
    ),
    "drugs": (
        TextField("name", "Name", False),
        TextField("plain_text", "Plain-language text", True, "Reading grade 8 or lower."),
        TextField("notes", "Notes for professionals", True),
    ),
    "genetics": (
        TextField("label", "Label", False),
        TextField("description", "Description", True),
        TextField("plain_text", "Plain-language text", True, "Reading grade 8 or lower."),
    ),
    "thresholds": (TextField("description", "Description", True),),
    "references": (
        TextField("title", "Title", False),
        TextField("note", "Note", True),
    ),
}
STATUS_GROUPS = (
    ("submitted", "Awaiting review"),
    ("draft", "Drafts"),
    ("rejected", "Changes requested"),
    ("served_pending", "Served, pending review"),
    ("approved", "Approved"),
    ("retired", "Retired"),
)


# ------------------------------------------------------------------ sign in / out


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/editor") -> HTMLResponse:
    return render(request, "login.html", {"error": None, "username": "", "next": _safe_next(next)})


@router.post(
    "/login",
    response_class=HTMLResponse,
    dependencies=[Depends(limit_login), Depends(verify_csrf)],
)
async def login(request: Request, db: Db) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip().lower()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/editor")))
    user = sign_in(request, db, username, password)
    if user is None:
        return render(
            request,
            "login.html",
            {
                "error": "The username or password is not right. Check them and try again.",
                "username": username,
                "next": target,
            },
            status_code=401,
        )
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, db: Db) -> Response:
    sign_out(request, db)
    return RedirectResponse("/", status_code=303)


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/editor"
    return target


def _login_redirect(request: Request) -> RedirectResponse:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(path, safe='/')}", status_code=303)


# ------------------------------------------------------------------ dashboard


@dataclass(frozen=True)
class DashboardGroup:
    key: str
    title: str
    items: list[ItemSummary]


def _group_of(item: ItemSummary) -> str:
    latest_is_served = item.served_number == item.latest_number
    if item.latest_status in ("submitted", "rejected") or (
        item.latest_status == "draft" and not latest_is_served
    ):
        return item.latest_status
    if item.served_number is None:
        return "retired"
    if item.served_status == "approved":
        return "approved"
    return "served_pending"


@router.get("/editor", response_class=HTMLResponse)
def dashboard(request: Request, db: Db, kind: str = "statements") -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    if kind not in KINDS:
        kind = "statements"
    items = ContentRepository(db).items(kind)
    buckets: dict[str, list[ItemSummary]] = {key: [] for key, _ in STATUS_GROUPS}
    for item in items:
        buckets.setdefault(_group_of(item), []).append(item)
    groups = [DashboardGroup(key, title, buckets.get(key, [])) for key, title in STATUS_GROUPS]
    counts = {k: len(ContentRepository(db).items(k)) for k in KINDS} if kind else {}
    return render(
        request,
        "editor/dashboard.html",
        {"kind": kind, "kinds": KINDS, "groups": groups, "counts": counts, "total": len(items)},
    )


# ------------------------------------------------------------------ one item


def _item_context(
    service: EditorialService, user: UserRecord, kind: str, item_id: str
) -> dict[str, Any]:
    versions = service.history(kind, item_id)
    served = next((v for v in versions if v.served), None)
    latest = versions[-1]
    open_version = next(
        (v for v in reversed(versions) if v.status in ("draft", "submitted") and not v.served),
        None,
    )
    base = open_version or served or latest
    actions = {v.number: service.allowed_actions(user, v) for v in versions}
    can_write = Action.edit in service.allowed_actions(user, base)
    fields = TEXT_FIELDS.get(kind, ())
    changes = []
    if open_version is not None and served is not None:
        for f in fields:
            old, new = str(served.data.get(f.name) or ""), str(open_version.data.get(f.name) or "")
            if old != new:
                changes.append((f.label, word_diff(old, new)))
    return {
        "changes": changes,
        "kind": kind,
        "item_id": item_id,
        "versions": list(reversed(versions)),
        "served": served,
        "open_version": open_version,
        "base": base,
        "actions": actions,
        "can_write": can_write,
        "text_fields": fields,
        "has_citations": "citations" in ITEM_MODELS[kind].model_fields,
        "values": _values_of(base, fields),
        "yaml_text": service.item_yaml(base),
        "error": None,
        "problems": [],
        "done": None,
        "role": user.role.value,
        "can_edit_role": can_edit(user.role),
        "can_review_role": can_review(user.role),
    }


def _values_of(version: ItemVersionRecord, fields: tuple[TextField, ...]) -> dict[str, str]:
    values = {f.name: str(version.data.get(f.name) or "") for f in fields}
    values["citations"] = "\n".join(str(c) for c in version.data.get("citations", []) or [])
    values["note"] = ""
    return values


def _check_kind(kind: str) -> None:
    if kind not in ITEM_MODELS:
        raise NotFound(f"no content kind '{kind}'; expected one of {', '.join(KINDS)}")


@router.get("/editor/items/{kind}/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, kind: str, item_id: str, db: Db, done: str = "") -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    _check_kind(kind)
    service = EditorialService(db)
    try:
        context = _item_context(service, user, kind, item_id)
    except WorkflowError as exc:
        raise NotFound(exc.message) from None
    context["done"] = _DONE.get(done)
    return render(request, "editor/item.html", context)


_DONE = {
    "edited": "Your new draft version is saved. The served version stays until a reviewer "
    "approves the draft. Submit it for review when it is ready.",
    "submitted": "Submitted for review. A reviewer (not you) must approve it.",
    "approved": "Approved. This version is now served to readers.",
    "rejected": "Rejected with your comment; the author can write a new draft.",
    "retired": "Retired: this item is no longer served (its history is kept).",
}


def _refused(
    request: Request,
    db: Db,
    user: UserRecord,
    kind: str,
    item_id: str,
    exc: WorkflowError,
    values: Mapping[str, str] | None = None,
    yaml_text: str | None = None,
) -> Response:
    """Show a refused action on the item page, with what the user typed kept."""
    db.rollback()
    service = EditorialService(db)
    context = _item_context(service, user, kind, item_id)
    context["error"] = exc.message
    context["problems"] = exc.problems
    if values is not None:
        context["values"] = {**context["values"], **values}
    if yaml_text is not None:
        context["yaml_text"] = yaml_text
    status = {"forbidden": 403, "not_found": 404, "invalid": 422}.get(exc.code, 409)
    return render(request, "editor/item.html", context, status_code=status)


def _done(kind: str, item_id: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"/editor/items/{kind}/{item_id}?done={what}", status_code=303)


@router.post(
    "/editor/items/{kind}/{item_id}/edit",
    dependencies=[Depends(verify_csrf), Depends(limit_writes)],
)
async def edit_item(request: Request, kind: str, item_id: str, db: Db) -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    _check_kind(kind)
    form = await request.form()
    service = EditorialService(db)
    note = str(form.get("note", "")).strip() or None
    yaml_text = form.get("yaml")
    if isinstance(yaml_text, str) and yaml_text.strip():
        try:
            service.edit(user, kind, item_id, yaml_text, note=note)
        except WorkflowError as exc:
            return _refused(request, db, user, kind, item_id, exc, yaml_text=yaml_text)
        return _done(kind, item_id, "edited")
    try:
        versions = service.history(kind, item_id)
    except WorkflowError as exc:
        raise NotFound(exc.message) from None
    base = next(
        (v for v in reversed(versions) if v.status in ("draft", "submitted") and not v.served),
        None,
    ) or next((v for v in versions if v.served), versions[-1])
    data = dict(base.data)
    typed: dict[str, str] = {"note": note or ""}
    for f in TEXT_FIELDS.get(kind, ()):
        value = str(form.get(f.name, "")).replace("\r\n", "\n").strip()
        typed[f.name] = value
        if value or f.name in data:
            data[f.name] = value if value else None
            if data[f.name] is None:
                data.pop(f.name)
    if "citations" in form:
        raw = str(form.get("citations", ""))
        typed["citations"] = raw
        data["citations"] = [c.strip() for c in raw.replace(",", "\n").splitlines() if c.strip()]
    try:
        service.edit(user, kind, item_id, data, note=note)
    except WorkflowError as exc:
        return _refused(request, db, user, kind, item_id, exc, values=typed)
    return _done(kind, item_id, "edited")


@router.post(
    "/editor/items/{kind}/{item_id}/versions/{number}/{action}",
    dependencies=[Depends(verify_csrf), Depends(limit_writes)],
)
async def version_action(
    request: Request, kind: str, item_id: str, number: int, action: str, db: Db
) -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    _check_kind(kind)
    form = await request.form()
    comment = str(form.get("comment", "")).strip() or None
    service = EditorialService(db)
    try:
        if action == "submit":
            service.submit(user, kind, item_id, number)
        elif action == "approve":
            service.approve(user, kind, item_id, number, comment)
            db.commit()  # publish before swapping the served content in
            refresh_content(request)
        elif action == "reject":
            service.reject(user, kind, item_id, number, comment or "")
        else:
            raise NotFound(f"no editorial action '{action}'")
    except WorkflowError as exc:
        return _refused(request, db, user, kind, item_id, exc)
    return _done(kind, item_id, {"submit": "submitted"}.get(action, action + "d"))


@router.post(
    "/editor/items/{kind}/{item_id}/retire",
    dependencies=[Depends(verify_csrf), Depends(limit_writes)],
)
async def retire_item(request: Request, kind: str, item_id: str, db: Db) -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    _check_kind(kind)
    form = await request.form()
    comment = str(form.get("comment", "")).strip()
    try:
        EditorialService(db).retire(user, kind, item_id, comment)
    except WorkflowError as exc:
        return _refused(request, db, user, kind, item_id, exc)
    db.commit()
    refresh_content(request)
    return _done(kind, item_id, "retired")


# ------------------------------------------------------------------ history and audit


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk"
    text: str


def diff_lines(text: str) -> list[DiffLine]:
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("@@"):
            out.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            out.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("del", line[1:]))
        else:
            out.append(DiffLine("ctx", line[1:] if line.startswith(" ") else line))
    return out


@router.get("/editor/items/{kind}/{item_id}/history", response_class=HTMLResponse)
def history(request: Request, kind: str, item_id: str, db: Db) -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    _check_kind(kind)
    service = EditorialService(db)
    try:
        versions = service.history(kind, item_id)
    except WorkflowError as exc:
        raise NotFound(exc.message) from None
    entries = []
    for i, version in enumerate(versions):
        previous = versions[i - 1] if i else None
        diff = service.diff(previous, version) if previous else ""
        entries.append({"v": version, "previous": previous, "diff": diff_lines(diff)})
    audit = AuditLog(db).entries(limit=200, target=f"{kind}/{item_id}")
    return render(
        request,
        "editor/history.html",
        {"kind": kind, "item_id": item_id, "entries": list(reversed(entries)), "audit": audit},
    )


AUDIT_PAGE = 50


@router.get("/editor/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: Db, page: int = 1, target: str = "") -> Response:
    user = page_user(request, db)
    if user is None:
        return _login_redirect(request)
    page = max(page, 1)
    log = AuditLog(db)
    entries = log.entries(
        limit=AUDIT_PAGE + 1, offset=(page - 1) * AUDIT_PAGE, target=target.strip() or None
    )
    report = log.verify_report()
    return render(
        request,
        "editor/audit.html",
        {
            "entries": entries[:AUDIT_PAGE],
            "has_next": len(entries) > AUDIT_PAGE,
            "page": page,
            "target": target,
            "report": report,
            "is_admin": user.role == Role.admin,
        },
    )


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """Word-level diff for showing a text change inline: [(op, text)], op in =, +, -."""
    wa, wb = a.split(" "), b.split(" ")
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(wa[i1:i2])))
        else:
            if i2 > i1:
                out.append(("-", " ".join(wa[i1:i2])))
            if j2 > j1:
                out.append(("+", " ".join(wb[j1:j2])))
    return out

"""HTTP surface of the CDS Hooks service, mounted at the app root.

    GET     /cds-services                     discovery (public: it holds no patient data)
    POST    /cds-services/{id}                a hook call (JWT required)
    POST    /cds-services/{id}/feedback       card feedback (JWT required)
    OPTIONS on each                           CORS preflight for browser-based EHRs

Status codes: 200; 400 malformed JSON, schema violation or wrong `hook`; 401 missing or
invalid JWT (no detail); 403 valid JWT whose issuer or tenant may not use the service;
404 unknown service; 412 required FHIR data cannot be obtained; 413 body too large; 415
not JSON; 500 generic; 503 issuer keys unreachable. Errors are FHIR OperationOutcomes
(CDS Hooks 3.0 recommends it); they never echo tokens, patient data or stack traces.

Policies: discovery needs no JWT (CDS Hooks 3.0 lets a service decide; it exposes no
patient data), hook and feedback calls always do. `aud` must be exactly
`{public_url}/cds-services/{id}` (feedback: that URL + `/feedback`, or the service URL).
Feedback is stored for any well-formed card uuid (cards are transient; the audit log ties
each uuid to the evaluation that produced it); the same entry sent twice is stored once.

This module deliberately has no `from __future__ import annotations`: FastAPI resolves
the `Annotated` dependencies below from the factory's local scope.
"""

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from allguide.cdshooks import hooks
from allguide.cdshooks.config import CdsConfig
from allguide.cdshooks.discovery import SERVICES, Service, discovery
from allguide.cdshooks.http import ClientFactory, default_client
from allguide.cdshooks.jwt import AuthError, Caller, JwtVerifier
from allguide.cdshooks.models import CdsResponse, FeedbackRequest, HookRequest
from allguide.cdshooks.orders import HookInputError
from allguide.cdshooks.prefetch import PrefetchUnavailable, resolve_prefetch
from allguide.cdshooks.store import HookStore, MemoryStore, TokenReplayed
from allguide.knowledge.pack import ContentPack
from allguide.patient.model import PatientInput
from allguide.planning.plan import Plan
from allguide.web.deps import get_pack
from allguide.web.errors import register_error_renderer

log = logging.getLogger("allguide.cdshooks")

MAX_BODY_BYTES = 5_000_000
JSON_TYPES = ("application/json", "application/fhir+json")
CORS_MAX_AGE = "600"
PackProvider = Callable[..., Any]  # a FastAPI dependency giving the ContentPack


class _AuditFailed(Exception):
    pass


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def create_router(
    settings: Any = None,
    *,
    config: CdsConfig | None = None,
    pack: ContentPack | None = None,
    store: HookStore | None = None,
    client_factory: ClientFactory = default_client,
    today: Callable[[], dt.date] | None = None,
) -> APIRouter:
    """The CDS Hooks router. `settings` is the app's `Settings` (public URL, issuers, CORS
    origins, insecure mode); the keyword arguments replace parts for tests and embedding."""
    cfg = config if config is not None else CdsConfig.from_settings(settings)
    for warning in cfg.warnings():
        log.warning(warning)
    verifier = JwtVerifier(cfg, client_factory)
    hook_store: HookStore = store if store is not None else _default_store()
    clock = today or _utc_today
    pack_dep = _pack_dependency(pack)
    PackDep = Annotated[ContentPack, Depends(pack_dep)]

    router = APIRouter(route_class=_cors_route_class(cfg.cors_origins), tags=["CDS Hooks"])
    # Errors raised outside our handlers (body too large, 405, 500) as OperationOutcomes too.
    register_error_renderer("/cds-services", _render_error)

    @router.get("/cds-services", summary="CDS Hooks discovery")
    async def get_discovery() -> JSONResponse:
        return JSONResponse(discovery().wire())

    @router.post("/cds-services/{service_id}", summary="Call a CDS service (hook)")
    async def call_service(service_id: str, request: Request, pack: PackDep) -> Response:
        started = time.perf_counter()
        service = SERVICES.get(service_id)
        caller = await _authenticate(request, verifier, cfg, service_id, feedback=False)
        if isinstance(caller, Response):
            return caller
        if service is None:
            return outcome(404, "not-found", f"no CDS service '{service_id}'")
        try:
            hook_request = HookRequest.model_validate(await _read_json(request))
        except _BadRequest as exc:
            return outcome(exc.status, "invalid", str(exc))
        except ValidationError as exc:
            return outcome(400, "invalid", _validation_text(exc))
        if hook_request.hook != service.hook:
            return outcome(
                400, "invalid", f"hook '{hook_request.hook}' does not match service {service.id}"
            )
        try:
            data = await resolve_prefetch(service, hook_request, cfg, client_factory)
        except PrefetchUnavailable as exc:
            log.info("412 for %s hookInstance=%s: %s", service.id, hook_request.hook_instance, exc)
            return outcome(412, "not-found", f"required FHIR data unavailable: {exc}")

        def save_plan(patient: PatientInput, plan: Plan) -> str | None:
            return hook_store.save_plan(request, patient, plan)

        ctx = hooks.HookContext(
            pack=pack, today=clock(), link_base=cfg.link_base, save_plan=save_plan
        )

        def evaluate() -> CdsResponse:
            cards = _run(service, hook_request, data, ctx)
            try:
                hook_store.audit_evaluation(
                    request,
                    service_id=service.id,
                    hook_instance=hook_request.hook_instance,
                    caller=caller,
                    cards=cards.cards,
                    content_version=pack.version,
                )
            except TokenReplayed:
                raise
            except Exception as exc:
                raise _AuditFailed from exc
            return cards

        try:
            # CPU-bound core plus database writes. Local writes (SQLite) run on the event
            # loop: a thread hop costs more than they do (GIL hand-offs; bench_hooks.py
            # server CPU 3.9 -> 3.0 ms a call). A database server's round trips would
            # stall the loop, so they go to a worker thread.
            if hook_store.writes_locally(request):
                cards = evaluate()
            else:
                cards = await run_in_threadpool(evaluate)
        except HookInputError as exc:
            return outcome(400, "invalid", str(exc))
        except TokenReplayed as exc:
            log.warning("CDS Hooks call refused (401): %s", exc)
            return _unauthorized()
        except _AuditFailed:
            # Fail closed: no recommendation without an audit record.
            log.exception("audit append failed for %s; no guidance returned", service.id)
            return outcome(503, "transient", "cannot record the evaluation now; retry later")
        except Exception:
            log.exception(
                "CDS service %s failed [hookInstance=%s]", service.id, hook_request.hook_instance
            )
            return outcome(500, "exception", "internal error; no guidance was produced")
        log.info(
            "cds %s hookInstance=%s iss=%s tenant=%s jti=%s cards=%d fetched=%s %.1fms",
            service.id,
            hook_request.hook_instance,
            caller.iss,
            caller.tenant,
            caller.jti,
            len(cards.cards),
            ",".join(data.fetched) or "-",
            (time.perf_counter() - started) * 1000,
        )
        return JSONResponse(cards.wire())

    @router.post("/cds-services/{service_id}/feedback", summary="Feedback on returned cards")
    async def post_feedback(service_id: str, request: Request) -> Response:
        caller = await _authenticate(request, verifier, cfg, service_id, feedback=True)
        if isinstance(caller, Response):
            return caller
        if service_id not in SERVICES:
            return outcome(404, "not-found", f"no CDS service '{service_id}'")
        try:
            body = FeedbackRequest.model_validate(await _read_json(request))
        except _BadRequest as exc:
            return outcome(exc.status, "invalid", str(exc))
        except ValidationError as exc:
            return outcome(400, "invalid", _validation_text(exc))
        try:
            new = await run_in_threadpool(
                hook_store.save_feedback, request, service_id, body.feedback, caller
            )
        except TokenReplayed as exc:
            log.warning("CDS Hooks feedback refused (401): %s", exc)
            return _unauthorized()
        log.info(
            "cds feedback %s: %d entr(ies), %d new, iss=%s",
            service_id,
            len(body.feedback),
            new,
            caller.iss,
        )
        return JSONResponse({"received": len(body.feedback), "new": new})

    for path in (
        "/cds-services",
        "/cds-services/{service_id}",
        "/cds-services/{service_id}/feedback",
    ):
        router.add_api_route(
            path,
            _preflight(cfg.cors_origins),
            methods=["OPTIONS"],
            include_in_schema=False,
        )
    return router


# ------------------------------------------------------------------------------ helpers


def _run(service: Service, request: HookRequest, data: Any, ctx: hooks.HookContext) -> CdsResponse:
    if service.hook == "patient-view":
        cards = hooks.patient_view(data, ctx)
    else:
        cards = hooks.order_check(
            request, data, ctx, selections_only=service.hook == "order-select"
        )
    return CdsResponse(cards=cards)


async def _authenticate(
    request: Request, verifier: JwtVerifier, cfg: CdsConfig, service_id: str, *, feedback: bool
) -> Caller | Response:
    service_url = cfg.service_url(service_id)
    audiences = [] if service_url is None else [service_url]
    if feedback and service_url is not None:
        audiences.insert(0, f"{service_url}/feedback")
    try:
        return await verifier.verify(
            request.headers.get("authorization"), audiences=audiences, service_id=service_id
        )
    except AuthError as exc:
        if exc.status == 401:
            return _unauthorized()
        if exc.status == 403:
            return outcome(403, "forbidden", "forbidden")
        return outcome(503, "transient", "cannot verify the caller now; retry later")


def _unauthorized() -> Response:
    return outcome(401, "login", "unauthorized", {"WWW-Authenticate": "Bearer"})


async def _read_json(request: Request) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise _BadRequest("send the body as application/json", 415)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _BadRequest(f"body over {MAX_BODY_BYTES} bytes", 413)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _BadRequest(f"body over {MAX_BODY_BYTES} bytes", 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadRequest("body is not UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise _BadRequest(f"body is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise _BadRequest("body must be a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _validation_text(exc: ValidationError) -> str:
    """Where and what, never the offending value (it may be patient data or a token)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False)[:10]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def outcome(
    status: int, code: str, text: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _render_error(
    request: Request, status: int, code: str, message: str, headers: dict[str, str]
) -> Response:
    text = message if status < 500 else "internal error; no guidance was produced"
    return outcome(status, _ISSUE_CODES.get(status, "processing"), text, headers)


_ISSUE_CODES = {401: "login", 403: "forbidden", 404: "not-found", 413: "too-long", 429: "throttled"}


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _pack_dependency(pack: ContentPack | None) -> PackProvider:
    """A fixed pack (tests, embedding) or the app's served content version (`get_pack`)."""
    if pack is None:
        return get_pack
    fixed = pack

    def given() -> ContentPack:
        return fixed

    return given


def _default_store() -> HookStore:
    """The app's database (when mounted by the web app), else an in-memory store."""
    try:
        from allguide.cdshooks.dbstore import DatabaseStore
    except ImportError:  # pragma: no cover - the web shell is part of the package
        return MemoryStore()
    return DatabaseStore()


def _preflight(origins: tuple[str, ...]) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def preflight(request: Request) -> Response:
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method", "")
        if origin is None or origin not in origins or method.upper() not in ("GET", "POST"):
            return Response(status_code=204, headers={"Vary": "Origin"})
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": CORS_MAX_AGE,
                "Vary": "Origin",
            },
        )

    return preflight


def _cors_route_class(origins: tuple[str, ...]) -> type[APIRoute]:
    """Routes that add CORS headers for allowlisted origins (never `*`, no credentials)."""
    allowed = frozenset(origins)

    class CorsRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def with_cors(request: Request) -> Response:
                response = await handler(request)
                origin = request.headers.get("origin")
                if origin is not None and origin in allowed:
                    response.headers["Access-Control-Allow-Origin"] = origin
                    response.headers["Vary"] = "Origin"
                return response

            return with_cors

    return CorsRoute

"""The FastAPI application: `create_app(settings)`.

Start-up (the lifespan) does, in order: run `content check` on the content directory and
refuse to start on any error (all listed, nothing touched), migrate the database
(Alembic), import the pack on first start, load the served pack and its ask index. The
served content is swapped atomically when editorial approval changes the content version
(see `state.py`).

Layers, outermost first: `RequestContext` (request id, body limit, security headers,
access log without patient data, last-resort 500), sessions, then the routers: REST API
under /api/v1, /health, CDS Hooks, pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import hashlib
import importlib.metadata
import logging
import re
import threading
from base64 import b64encode
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool

from allguide.knowledge.check import RequiredIds, check_pack
from allguide.knowledge.pack import ContentError, parse_pack
from allguide.planning.catalog import requirements
from allguide.planning.engine import ENGINE_VERSION
from allguide.store import ContentRepository, Database, DatabaseError
from allguide.web import errors
from allguide.web.api import API_PREFIX, api_router, health
from allguide.web.api.schemas import (
    AnswerRequest,
    DraftRequest,
    EditorialComment,
    OrderCheckRequest,
)
from allguide.web.middleware import DEFAULT_CSP, RequestContext
from allguide.web.security import RateLimiters, install_sessions
from allguide.web.settings import Settings
from allguide.web.state import ContentState
from allguide.web.writer import PlanWriter

log = logging.getLogger("allguide.web")


def _version() -> str:
    try:
        return importlib.metadata.version("allguide")
    except importlib.metadata.PackageNotFoundError:
        return ENGINE_VERSION


DESCRIPTION = """
Cited, risk-adapted decision support for acute lymphoblastic leukemia (ALL).

**Decision support for qualified health professionals, not a medical order.** Every plan
and answer carries its content version, review status, citations and a disclaimer.
Content marked draft has not been approved by the medical advisory board.

Errors always have the same shape: `{"error": {"status", "code", "message", "fields":
[{"field", "value", "expected"}]}, "request_id"}`. Editorial endpoints need an API token
(`Authorization: Bearer agt_...`, made with `allguide user token`).
"""


class StartupError(Exception):
    """The app must not start; `problems` lists every reason."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


def startup_error(app: FastAPI) -> Exception | None:
    """Why the lifespan refused to start, if it did (read by `allguide serve`)."""
    error = getattr(app.state, "startup_error", None)
    return error if isinstance(error, Exception) else None


def engine_requirements() -> RequiredIds:
    statements, regimens, thresholds = requirements()
    return RequiredIds(statements=statements, regimens=regimens, thresholds=thresholds)


def check_content_dir(settings: Settings, today: dt.date) -> None:
    """`content check` of the configured content directory; StartupError listing errors."""
    root = settings.content_dir
    if not root.is_dir():
        raise StartupError(f"content directory not found: {root}")
    parsed, version = parse_pack(root)
    report = check_pack(parsed, version, required=engine_requirements(), today=today)
    for warning in report.warnings:
        log.warning("content: %s", warning)
    if report.errors:
        raise StartupError(
            f"the content pack in {root} has {len(report.errors)} error(s); fix them (see "
            "'allguide content check') and start again",
            [str(p) for p in report.errors],
        )


def prepare_database(settings: Settings) -> Database:
    """Content check, migrations and the first-start import: what must happen once before
    serving, also when several workers will serve (`allguide serve --workers`)."""
    today = dt.datetime.now(dt.UTC).date()
    check_content_dir(settings, today)
    try:
        db = Database(settings.database_url)
        revision = db.migrate()
    except DatabaseError as exc:
        raise StartupError(str(exc)) from None
    log.info("database %r at schema revision %s", db, revision)
    try:
        with db.session() as session:
            imported = ContentRepository(session).import_pack_if_empty(
                settings.content_dir, required=engine_requirements()
            )
    except ContentError as exc:
        db.dispose()
        raise StartupError("the content pack cannot be imported", exc.problems) from None
    if imported is not None:
        log.info(
            "first start: imported %d content items from %s (content version %s)",
            imported.item_count,
            settings.content_dir,
            imported.digest,
        )
    return db


def prepare(settings: Settings) -> tuple[Database, ContentState]:
    """Everything start-up does before serving (blocking; run in a thread)."""
    db = prepare_database(settings)
    try:
        state = ContentState(db, semantic=settings.ask_semantic, cache_dir=str(settings.cache_dir))
        served = state.load()
    except ContentError as exc:
        db.dispose()
        raise StartupError("the served content cannot be used", exc.problems) from None
    log.info("serving content version %s", served.version)
    return db, state


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    for warning in settings.warnings():
        log.warning(warning)
    try:
        try:
            db, state = await run_in_threadpool(prepare, settings)
        except StartupError:
            raise
        except Exception as exc:  # e.g. the database server is unreachable
            log.exception("start-up failed")
            raise StartupError(f"could not start: {type(exc).__name__}: {exc}") from exc
    except StartupError as exc:
        app.state.startup_error = exc
        log.error("not starting: %s", exc.message)
        for problem in exc.problems:
            log.error("  %s", problem)
        raise
    freeze_heap()
    app.state.db = db
    app.state.content = state
    app.state.plan_writer = writer = PlanWriter(db)
    tasks = [asyncio.create_task(_watch_content(state, settings.content_poll_seconds))]
    if settings.ask_semantic:
        tasks.append(asyncio.create_task(asyncio.to_thread(state.warm)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        writer.close()
        db.dispose()


def freeze_heap() -> None:
    """Exclude everything loaded so far (content pack, ask index, routes: ~240k objects)
    from garbage collection. Without this each full collection walks all of them, a
    ~100 ms pause for every request in flight (the p95 of the hooks benchmark); with it a
    collection only sees what requests allocate. Called again after a content swap."""
    gc.collect()
    gc.freeze()


async def _watch_content(state: ContentState, every: float) -> None:
    """Pick up content approved by another server process (each has its own snapshot)."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(state.refresh)
        except Exception:  # keep serving the current snapshot; try again later
            log.exception("could not check for a new content version")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="allguide",
        version=_version(),
        description=DESCRIPTION,
        docs_url=None,  # our own /docs route below: the CSP allows its assets only there
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiters = RateLimiters(settings)
    app.state.write_lock = threading.Lock() if settings.is_sqlite else contextlib.nullcontext()
    errors.install(app)

    # The API first: routes are matched in order, and API calls are the hot path.
    app.include_router(api_router())
    app.include_router(health.router)
    _include_routers(app, settings)
    docs_csp = _add_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    # Middleware: the last added is the outermost. No CORS middleware: the pages and the
    # API are same-origin; the CDS Hooks routes (called from EHR browsers) answer CORS
    # themselves for `settings.cors_origins`, and a second layer would duplicate headers.
    install_sessions(app, settings)
    app.add_middleware(
        RequestContext,
        hsts=settings.secure_cookies,
        max_body_bytes=settings.max_body_bytes,
        path_csp={"/docs": docs_csp},
    )
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` / `allguide serve --reload`."""
    return create_app(Settings.from_env())


def _include_routers(app: FastAPI, settings: Settings) -> None:
    """Server-rendered pages and the CDS Hooks service share the app (and its database)."""
    from allguide.cdshooks.router import create_router
    from allguide.web.pages import router as pages_router

    app.include_router(pages_router)
    app.include_router(create_router(settings))


# --- OpenAPI and docs -------------------------------------------------------------------------


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the request bodies our endpoints read themselves (they parse
    JSON with exact decimals, so FastAPI cannot see their models)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    from allguide.patient.model import PatientInput

    _, defs = models_json_schema(
        [
            (PatientInput, "validation"),
            (AnswerRequest, "validation"),
            (OrderCheckRequest, "validation"),
            (DraftRequest, "validation"),
            (errors.ErrorEnvelope, "validation"),
            (EditorialComment, "validation"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model_schema in defs.get("$defs", {}).items():
        components.setdefault(name, model_schema)
    components["PlanRequestDoc"] = {
        "title": "PlanRequest",
        "type": "object",
        "additionalProperties": False,
        "required": ["patient"],
        "properties": {
            "patient": {"$ref": "#/components/schemas/PatientInput"},
            "start_date": {
                "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                "description": "Day 1 of induction, YYYY-MM-DD",
            },
        },
    }
    app.openapi_schema = schema
    return schema


def _add_docs(app: FastAPI) -> str:
    """`/docs` (Swagger UI); returns the CSP that lets exactly its scripts run."""
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="allguide API")
    scripts = re.findall(rb"<script>(.*?)</script>", page.body, flags=re.S)
    hashes = " ".join(f"'sha256-{b64encode(hashlib.sha256(s).digest()).decode()}'" for s in scripts)
    cdn = "https://cdn.jsdelivr.net"
    csp = (
        DEFAULT_CSP.replace("script-src 'self'", f"script-src 'self' {cdn} {hashes}")
        .replace("style-src 'self'", f"style-src 'self' {cdn}")
        .replace("img-src 'self' data:", "img-src 'self' data: https://fastapi.tiangolo.com")
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return page

    return csp


__all__ = ["API_PREFIX", "StartupError", "create_app", "startup_error"]

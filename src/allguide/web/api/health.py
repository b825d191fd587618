"""`GET /health` (for load balancers and monitors) and `GET /api/v1/ping` (the trivial
JSON endpoint the API benchmark compares against)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends

from allguide.planning.engine import ENGINE_VERSION
from allguide.store import Database
from allguide.web.api.schemas import Health, Ping
from allguide.web.deps import get_database, get_served
from allguide.web.errors import ServiceUnavailable, error_responses
from allguide.web.state import Served

log = logging.getLogger("allguide.web")
router = APIRouter(tags=["Health"])
api_router = APIRouter(tags=["Health"])


@router.get("/health", summary="Liveness and readiness", responses=error_responses(503))
def health(
    served: Annotated[Served, Depends(get_served)],
    db: Annotated[Database, Depends(get_database)],
) -> Health:
    try:
        revision = db.current_revision()
    except Exception:  # report, never crash: the monitor wants a status
        log.exception("health check: database unreachable")
        raise ServiceUnavailable("the database is not reachable") from None
    if revision != Database.head_revision():
        raise ServiceUnavailable("the database schema is not up to date")
    return Health(
        status="ok",
        content_version=served.version,
        engine_version=ENGINE_VERSION,
        database="ok",
    )


@api_router.get("/ping", summary="A trivial JSON response (benchmark baseline)")
async def ping() -> Ping:
    return Ping()

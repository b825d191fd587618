"""The REST API, versioned under `/api/v1`. OpenAPI at `/openapi.json`, docs at `/docs`."""

from __future__ import annotations

from fastapi import APIRouter

from allguide.web.api import answers, content, editorial, health, orders, plans

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module_router in (
        health.api_router,  # first: the benchmark's baseline must not pay for route matching
        plans.router,
        answers.router,
        content.router,
        orders.router,
        editorial.router,
        editorial.audit_router,
    ):
        router.include_router(module_router)
    return router

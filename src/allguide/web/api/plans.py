"""`POST /plans` and `GET /plans/{id}`: build, store and re-render treatment plans.

A stored plan keeps the validated input, the engine version and the content version. Its
permalink re-renders the plan from exactly those, so the response of `GET` is
byte-identical to the response of the `POST` that created it, even after content has
been edited since.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.patient.model import PatientInput
from allguide.planning.engine import ENGINE_VERSION, build_plan, input_digest
from allguide.render.plan_json import plan_to_json
from allguide.store import ContentRepository, NewPlan, PlanRepository
from allguide.web.api.body import body_doc, json_body, validated
from allguide.web.api.schemas import PlanRecord, PlanRequest
from allguide.web.deps import DbSession, OptionalUser, get_served
from allguide.web.errors import NotFound, error_responses
from allguide.web.security import limit_writes
from allguide.web.state import Served
from allguide.web.writer import PlanWriter

log = logging.getLogger("allguide.web")
router = APIRouter(tags=["Plans"])

PlanId = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class _RenderCache:
    """Rendered plans by (input digest, content version, start date): the engine is
    deterministic, so a repeated input (a re-opened permalink, a retried request) is not
    rebuilt. Bounded; shared by threads."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[tuple[str, str, str | None], str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str | None]) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, str | None], value: str) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_rendered = _RenderCache()


def _render(patient: PatientInput, digest: str, pack: ContentPack, start: dt.date | None) -> str:
    """Compact plan JSON for validated input (from the cache when made before)."""
    key = (digest, pack.version, start.isoformat() if start else None)
    cached = _rendered.get(key)
    if cached is None:
        cached = plan_to_json(build_plan(patient, pack, start_date=start), compact=True)
        _rendered.put(key, cached)
    return cached


def _record_json(
    request: Request,
    plan_id: str,
    *,
    content_version: str,
    engine_version: str,
    digest: str,
    start: dt.date | None,
    plan_json: str,
) -> str:
    base = request.app.state.settings.public_url or ""
    head = {
        "id": plan_id,
        "permalink": f"{base}/plans/{plan_id}",
        "api_url": f"{base}/api/v1/plans/{plan_id}",
        "content_version": content_version,
        "engine_version": engine_version,
        "input_digest": digest,
        "start_date": start.isoformat() if start else None,
    }
    # Spliced rather than re-encoded: the plan JSON is large and already rendered.
    return (
        json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        + ',"plan":'
        + (plan_json + "}")
    )


@router.post(
    "/plans",
    status_code=201,
    response_model=PlanRecord,
    summary="Build and store a plan",
    responses=error_responses(413, 422, 429),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("PlanRequestDoc"),
)
async def create_plan(
    request: Request,
    body: Annotated[Any, Depends(json_body)],
    served: Annotated[Served, Depends(get_served)],
    user: OptionalUser,
) -> Response:
    """Validate the patient's findings, build the risk-adapted plan from the served content
    version and store it. Bad input is a 422 naming every field, value and expectation,
    and nothing is stored."""
    payload = validated(PlanRequest, body)
    pack = served.pack
    # The engine is CPU-bound and the GIL serialises it anyway: run it on the event loop
    # (no thread hand-offs); the database write goes to the group-commit writer.
    patient = parse_patient(payload.patient, pack)  # InputError -> 422 naming each field
    digest = input_digest(patient)
    plan_json = _render(patient, digest, pack, payload.start_date)
    writer: PlanWriter = request.app.state.plan_writer
    plan_id = await writer.save(
        NewPlan(
            input_data=patient.model_dump(mode="json", exclude_none=True),
            input_digest=digest,
            engine_version=ENGINE_VERSION,
            content_version=pack.version,
            plan_json=plan_json,
            created_by=user.username if user else None,
        )
    )
    text = _record_json(
        request,
        plan_id,
        content_version=pack.version,
        engine_version=ENGINE_VERSION,
        digest=digest,
        start=payload.start_date,
        plan_json=plan_json,
    )
    return Response(
        text,
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/v1/plans/{plan_id}"},
    )


@router.get(
    "/plans/{plan_id}",
    response_model=PlanRecord,
    summary="A stored plan, re-rendered",
    responses=error_responses(404, 422),
)
def get_plan(request: Request, plan_id: PlanId, db: DbSession) -> Response:
    """Rebuild the plan from its stored input with the content version it was made with."""
    record = PlanRepository(db).get(plan_id)
    if record is None:
        raise NotFound(f"no plan '{plan_id}'")
    stored_plan = json.loads(record.plan_json)
    stored_start = stored_plan.get("start_date")
    start = dt.date.fromisoformat(stored_start) if stored_start else None
    if record.engine_version == ENGINE_VERSION:
        try:
            pack = ContentRepository(db).pack_for_version(record.content_version)
        except KeyError:
            pack = None
        if pack is not None:
            patient = parse_patient(json.loads(record.input_json, parse_float=Decimal), pack)
            plan_json = _render(patient, record.input_digest, pack, start)
            if json.loads(plan_json) != stored_plan:
                log.warning("plan %s re-renders differently from its stored copy", plan_id)
        else:
            plan_json = record.plan_json
    else:
        # Another engine version made it: show the plan as it was made, not a new one.
        plan_json = record.plan_json
    text = _record_json(
        request,
        record.id,
        content_version=record.content_version,
        engine_version=record.engine_version,
        digest=record.input_digest,
        start=start,
        plan_json=plan_json,
    )
    return Response(text, media_type="application/json")

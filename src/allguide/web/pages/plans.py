"""Plan builder form → stored plan → permalink page, PDF and iCalendar downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import InputError, parse_patient
from allguide.planning.engine import build_plan
from allguide.render.plan_ics import NoCalendarError, plan_to_ics
from allguide.render.plan_pdf import plan_to_pdf
from allguide.web.deps import DbSession, get_pack
from allguide.web.errors import NotFound
from allguide.web.pages import storage
from allguide.web.pages.forms import (
    FORM_LEVEL,
    MRD_METHODS,
    MRD_ROWS,
    START_DATE,
    FieldSpec,
    FormState,
    attach_problems,
    field_index,
    form_groups,
    genetics_choices,
    parse_start_date,
    patient_data,
    read_form,
)
from allguide.web.pages.session import page_user
from allguide.web.pages.templating import render
from allguide.web.security import limit_writes, verify_csrf

router = APIRouter(include_in_schema=False)

Pack = Annotated[ContentPack, Depends(get_pack)]
Db = DbSession
START_SPEC = FieldSpec(
    START_DATE,
    "Start date of induction (day 1)",
    "date",
    None,
    "YYYY-MM-DD. Dates the calendar and enables the .ics download.",
)


def _form_page(
    request: Request, pack: ContentPack, state: FormState, status_code: int = 200
) -> HTMLResponse:
    specs = {**field_index(), START_DATE: START_SPEC}
    labels = {name: spec.label for name, spec in specs.items()}
    anchors = {name: spec.input_id for name, spec in specs.items()}
    for row in MRD_ROWS:
        labels[row.value_name] = f"MRD {row.label}"
        labels[row.method_name] = f"MRD method {row.label}"
        anchors[row.value_name] = f"f-{row.value_name}"
        anchors[row.method_name] = f"f-{row.method_name}"
    anchors[FORM_LEVEL] = "group-mrd"
    return render(
        request,
        "plan_form.html",
        {
            "groups": form_groups(),
            "genetics": genetics_choices(pack),
            "mrd_rows": MRD_ROWS,
            "mrd_methods": MRD_METHODS,
            "start_spec": START_SPEC,
            "state": state,
            "labels": labels,
            "anchors": anchors,
        },
        status_code=status_code,
    )


@router.get("/plans/new", response_class=HTMLResponse)
def new_plan(request: Request, pack: Pack, db: Db, start_date: str = "") -> HTMLResponse:
    state = FormState()
    source = request.query_params.get("from")
    if source:
        stored = storage.load_plan(db, source)
        if stored is not None:
            state = form_from_input(stored.input_data)
            if stored.plan.start_date:
                state.values[START_DATE] = stored.plan.start_date.isoformat()
    if start_date:
        state.values[START_DATE] = start_date
    return _form_page(request, pack, state)


@router.post(
    "/plans",
    response_class=HTMLResponse,
    dependencies=[Depends(verify_csrf), Depends(limit_writes)],
)
async def create_plan(request: Request, pack: Pack, db: Db) -> Response:
    state = read_form(await request.form())
    data, mrd_origins = patient_data(state)
    start = parse_start_date(state)
    try:
        patient = parse_patient(data, pack)
    except InputError as exc:
        attach_problems(state, exc.problems, mrd_origins)
        patient = None
    if patient is None or state.errors:
        return _form_page(request, pack, state, status_code=422)
    plan = build_plan(patient, pack, start_date=start)
    user = page_user(request, db)
    plan_id = storage.save_plan(db, patient, plan, user.username if user else None)
    return RedirectResponse(f"/plans/{plan_id}", status_code=303)


def _stored(db: Session, plan_id: str) -> storage.StoredPlanView:
    stored = storage.load_plan(db, plan_id)
    if stored is None:
        raise NotFound(f"no plan '{plan_id}'; plans are kept under the link shown when built")
    return stored


@router.get("/plans/{plan_id}.pdf")
def plan_pdf(request: Request, plan_id: str, db: Db) -> Response:
    stored = _stored(db, plan_id)
    body = plan_to_pdf(stored.plan, created=stored.created_at)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="allguide-plan-{plan_id}.pdf"'},
    )


@router.get("/plans/{plan_id}.ics")
def plan_ics(request: Request, plan_id: str, db: Db) -> Response:
    stored = _stored(db, plan_id)
    try:
        body = plan_to_ics(stored.plan, stamp=stored.created_at)
    except NoCalendarError as exc:
        raise NotFound(str(exc)) from None
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="allguide-plan-{plan_id}.ics"'},
    )


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, db: Db) -> HTMLResponse:
    stored = _stored(db, plan_id)
    plan = stored.plan
    return render(
        request,
        "plan.html",
        {
            "plan": plan,
            "plan_id": plan_id,
            "created": stored.created_at,
            "refnum": {r.id: r.n for r in plan.references},
            "review_status": "approved" if plan.review.status == "approved" else "draft",
        },
    )


def form_from_input(data: dict[str, Any]) -> FormState:
    """Stored patient input → form values, to edit the findings of an existing plan."""
    state = FormState()
    specs = field_index()
    for name, value in data.items():
        spec = specs.get(name)
        if name == "mrd" and isinstance(value, list):
            for entry in value:
                tp = str(entry.get("timepoint", ""))
                state.values[f"mrd_{tp}"] = str(entry.get("value_percent", ""))
                if entry.get("method"):
                    state.values[f"mrd_{tp}_method"] = str(entry["method"])
        elif spec is None or value is None:
            continue
        elif spec.widget == "genetics":
            state.values[name] = [str(v) for v in value]
            state.values["genetics_reported"] = "yes"
        elif spec.widget == "yesno":
            state.values[name] = "yes" if value else "no"
        elif isinstance(value, list):
            sep = "\n" if spec.widget == "lines" else ", "
            state.values[name] = sep.join(str(v) for v in value)
        else:
            state.values[name] = str(value)
    return state

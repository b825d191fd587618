"""Request and response models of the REST API (the OpenAPI contract).

Clinical payloads reuse the core's models (`Plan`, content items) so the API cannot drift
from what the engine produces.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from allguide.planning.plan import Plan

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list of items from the served content version."""

    content_version: str
    count: int
    items: list[T]


class PlanRequest(BaseModel):
    """Patient findings (see `PatientInput`), and optionally day 1 of induction."""

    model_config = ConfigDict(extra="forbid")

    patient: dict[str, Any] = Field(
        description="Patient findings; fields and units as in `PatientInput` "
        "(docs/patient-input.md). Absent fields are unknown."
    )
    start_date: dt.date | None = Field(
        default=None, description="Day 1 of induction, YYYY-MM-DD; dates the calendar"
    )


class PlanRecord(BaseModel):
    """A stored plan. `GET /plans/{id}` re-renders it from the stored input and the content
    version it was made with, byte-identical to the response of `POST /plans`."""

    id: str
    permalink: str = Field(description="Web page of this plan (share or print it)")
    api_url: str
    content_version: str
    engine_version: str
    input_digest: str = Field(description="SHA-256 of the canonical validated input")
    start_date: dt.date | None
    plan: Plan


Audience = Literal["clinician", "patient", "family"]


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000)
    audience: Audience = "clinician"
    patient: dict[str, Any] | None = Field(
        default=None, description="Optional patient findings to tailor the answer"
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=100,
        description="Id from a previous answer, to ask a follow-up question",
    )


class OrderCheckRequest(BaseModel):
    """Orders as allguide's order-set JSON, or FHIR R4 MedicationRequests (a Bundle, a list,
    or one resource), recognised by `resourceType`."""

    model_config = ConfigDict(extra="forbid")

    orders: dict[str, Any] | list[dict[str, Any]]
    patient: dict[str, Any] | None = Field(
        default=None, description="Optional patient findings (enables BSA and age checks)"
    )
    today: dt.date | None = Field(
        default=None, description="Date to check against (default: the server's date)"
    )


class EditorialComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000)


class DraftRequest(BaseModel):
    """A new version of a content item; the approved one keeps being served until this one
    is approved."""

    model_config = ConfigDict(extra="forbid")

    item: dict[str, Any] = Field(description="The whole item, as in the content files")
    comment: str | None = Field(default=None, max_length=4000)


class Health(BaseModel):
    status: Literal["ok"]
    content_version: str
    engine_version: str
    database: Literal["ok"]


class Ping(BaseModel):
    ok: bool = True

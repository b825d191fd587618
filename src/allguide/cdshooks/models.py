"""CDS Hooks 2.0 JSON shapes: discovery, hook request, response (cards) and feedback.

Written by hand from the specification's tables (the official logical models target the
Java FHIR validator, which cannot run here). Wire names are the spec's camelCase; Python
attributes are snake_case with aliases. Responses are serialised with `exclude_none`, so
optional elements are omitted rather than sent as null or empty (the spec forbids empty
values except `{"cards": []}`). The `cds-*` invariants are enforced by validators.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

# The spec says "<140-character" summary: at most 139 characters.
SUMMARY_MAX = 139

Indicator = Literal["info", "warning", "critical"]


class _In(BaseModel):
    """Inbound: unknown fields are tolerated (the spec requires it)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# ------------------------------------------------------------------------------- request


class FhirAuthorization(_In):
    # SecretStr: the token is transient and must never reach a log or repr.
    access_token: SecretStr
    token_type: str
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, v: str) -> str:
        if v.lower() != "bearer":
            raise ValueError("token_type must be 'Bearer'")
        return v


class HookRequest(_In):
    hook: str = Field(min_length=1)
    hook_instance: str = Field(alias="hookInstance")
    fhir_server: str | None = Field(default=None, alias="fhirServer")
    fhir_authorization: FhirAuthorization | None = Field(default=None, alias="fhirAuthorization")
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @field_validator("hook_instance")
    @classmethod
    def _uuid(cls, v: str) -> str:
        try:
            uuid.UUID(v.removeprefix("urn:uuid:"))
        except ValueError:
            raise ValueError("hookInstance must be a UUID") from None
        return v

    @model_validator(mode="after")
    def _cds_r_1(self) -> HookRequest:
        if self.fhir_authorization is not None and not self.fhir_server:
            raise ValueError("fhirAuthorization needs fhirServer (cds-r-1)")
        return self


# ------------------------------------------------------------------------------ response


class Coding(_Out):
    system: str | None = None
    code: str
    display: str | None = None


class Source(_Out):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Out):
    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resource_id: str | None = Field(default=None, alias="resourceId")


class Suggestion(_Out):
    label: str = Field(min_length=1)
    uuid: str | None = None
    is_recommended: bool | None = Field(default=None, alias="isRecommended")
    actions: list[Action] | None = None


class Link(_Out):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    app_context: str | None = Field(default=None, alias="appContext")

    @model_validator(mode="after")
    def _cds_resp_3(self) -> Link:
        if self.app_context is not None and self.type != "smart":
            raise ValueError("appContext only with type 'smart' (cds-resp-3)")
        return self


class OverrideReasonCoding(Coding):
    display: str = Field(min_length=1)  # cds-resp-4: every override reason has a display


class Card(_Out):
    uuid: str
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selection_behavior: Literal["at-most-one", "any"] | None = Field(
        default=None, alias="selectionBehavior"
    )
    override_reasons: list[OverrideReasonCoding] | None = Field(
        default=None, alias="overrideReasons"
    )
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _invariants(self) -> Card:
        if self.suggestions and self.selection_behavior is None:
            raise ValueError("suggestions need selectionBehavior (cds-resp-6)")
        if self.selection_behavior == "at-most-one" and self.suggestions:
            recommended = sum(1 for s in self.suggestions if s.is_recommended)
            if recommended > 1:
                raise ValueError("at-most-one allows one recommended suggestion (cds-resp-1)")
        for empty in ("suggestions", "override_reasons", "links"):
            if getattr(self, empty) == []:
                raise ValueError(f"{empty} must be omitted rather than empty")
        return self


class CdsResponse(_Out):
    cards: list[Card]


# ----------------------------------------------------------------------------- discovery


class ServiceDescriptor(_Out):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usage_requirements: str | None = Field(default=None, alias="usageRequirements")


class Discovery(_Out):
    services: list[ServiceDescriptor]


# ------------------------------------------------------------------------------ feedback


class OverrideReason(_In):
    reason: Coding | None = None
    user_comment: str | None = Field(default=None, alias="userComment", max_length=2000)

    @model_validator(mode="after")
    def _cds_fb_3(self) -> OverrideReason:
        if self.reason is None and not self.user_comment:
            raise ValueError("overrideReason needs a reason or a userComment (cds-fb-3)")
        return self


class AcceptedSuggestion(_In):
    id: str = Field(min_length=1)


class FeedbackItem(_In):
    card: str
    outcome: Literal["accepted", "overridden"]
    accepted_suggestions: list[AcceptedSuggestion] | None = Field(
        default=None, alias="acceptedSuggestions"
    )
    override_reason: OverrideReason | None = Field(default=None, alias="overrideReason")
    outcome_timestamp: dt.datetime = Field(alias="outcomeTimestamp")

    @field_validator("card")
    @classmethod
    def _uuid(cls, v: str) -> str:
        try:
            uuid.UUID(v.removeprefix("urn:uuid:"))
        except ValueError:
            raise ValueError("card must be the uuid of a card") from None
        return v

    @field_validator("outcome_timestamp")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("outcomeTimestamp needs a time zone (RFC 3339, e.g. ...Z)")
        return v.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _cds_fb(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.accepted_suggestions:
            raise ValueError("accepted feedback needs acceptedSuggestions (cds-fb-2)")
        if self.outcome == "accepted" and self.override_reason is not None:
            raise ValueError("overrideReason only with outcome 'overridden'")
        return self


class FeedbackRequest(_In):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)

"""Plain, immutable records that repositories return.

Callers never hold ORM objects, so nothing is lazily loaded after a session closes and
web/CLI code cannot write to the database by accident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from allguide.accounts.roles import Role


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    role: Role
    display_name: str | None
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class ApiTokenRecord:
    id: int
    username: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class ItemVersionRecord:
    """One version of a content item. `data` is the item as validated (JSON form)."""

    id: int
    kind: str
    item_id: str
    number: int
    data: dict[str, Any]
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

    @property
    def label(self) -> str:
        """e.g. 'statements/stmt.mrd.end_of_induction@v3' (used as the audit target)."""
        return f"{self.kind}/{self.item_id}@v{self.number}"


@dataclass(frozen=True)
class ItemSummary:
    """An item for dashboards: what is served and what is waiting for review."""

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

    @property
    def retired(self) -> bool:
        return self.served_number is None


@dataclass(frozen=True)
class ContentVersionRecord:
    id: int
    digest: str
    created_at: dt.datetime
    created_by: str
    note: str | None
    item_count: int


@dataclass(frozen=True)
class PlanRecord:
    id: str
    input_json: str
    input_digest: str
    engine_version: str
    content_version: str
    plan_json: str
    created_at: dt.datetime
    created_by: str | None


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    service_id: str
    card_uuid: str
    outcome: str
    payload: dict[str, Any]
    received_at: dt.datetime


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

"""Stored plans: the input, engine and content version that made them, for permalinks.

A permalink re-renders a plan by rebuilding it from `input_json` with the pack of the
stored `content_version` (`ContentRepository.pack_for_version`), so it shows the same
plan even after content has changed; `plan_json` keeps the original output as well.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from allguide.store.db import utc_now
from allguide.store.models import StoredPlan
from allguide.store.records import PlanRecord

_PLANS = cast(Table, StoredPlan.__table__)
PLAN_ID_BYTES = 12  # 16 url-safe characters: unguessable, short enough for a link


def new_plan_id() -> str:
    return secrets.token_urlsafe(PLAN_ID_BYTES)


@dataclass(frozen=True)
class NewPlan:
    """A plan to store (`PlanRepository.save_many`)."""

    input_data: Mapping[str, Any]
    input_digest: str
    engine_version: str
    content_version: str
    plan_json: str
    created_by: str | None = None


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self,
        input_json: str | Mapping[str, Any],
        input_digest: str,
        engine_version: str,
        content_version: str,
        plan_json: str,
        created_at: dt.datetime | None = None,
        created_by: str | None = None,
    ) -> str:
        """Store a plan; returns its random permalink id."""
        if not isinstance(input_json, str):
            input_json = json.dumps(input_json, sort_keys=True, ensure_ascii=False, default=str)
        plan_id = new_plan_id()
        self.session.add(
            StoredPlan(
                id=plan_id,
                input_json=input_json,
                input_digest=input_digest,
                engine_version=engine_version,
                content_version=content_version,
                plan_json=plan_json,
                created_at=created_at or utc_now(),
                created_by=created_by,
            )
        )
        self.session.flush()
        return plan_id

    def save_many(
        self, plans: Sequence[NewPlan], created_at: dt.datetime | None = None
    ) -> list[str]:
        """Store several plans in one statement (the API's group commit); returns their
        ids in order. Nothing is flushed through the ORM: one executemany, not a unit of
        work per plan."""
        created_at = created_at or utc_now()
        ids = [new_plan_id() for _ in plans]
        self.session.connection().execute(  # Core: no ORM bookkeeping for rows never loaded
            insert(_PLANS),
            [
                {
                    "id": plan_id,
                    "input_json": json.dumps(
                        plan.input_data, sort_keys=True, ensure_ascii=False, default=str
                    ),
                    "input_digest": plan.input_digest,
                    "engine_version": plan.engine_version,
                    "content_version": plan.content_version,
                    "plan_json": plan.plan_json,
                    "created_at": created_at,
                    "created_by": plan.created_by,
                }
                for plan_id, plan in zip(ids, plans, strict=True)
            ],
        )
        return ids

    def get(self, plan_id: str) -> PlanRecord | None:
        row = self.session.get(StoredPlan, plan_id)
        return None if row is None else _record(row)

    def latest_for_digest(
        self, input_digest: str, content_version: str | None = None
    ) -> PlanRecord | None:
        """The newest plan made from the same input (optionally the same content)."""
        stmt = select(StoredPlan).where(StoredPlan.input_digest == input_digest)
        if content_version is not None:
            stmt = stmt.where(StoredPlan.content_version == content_version)
        row = self.session.scalars(stmt.order_by(StoredPlan.created_at.desc()).limit(1)).first()
        return None if row is None else _record(row)

    def latest_id_for(
        self, input_digest: str, content_version: str, engine_version: str
    ) -> str | None:
        """Id of the newest plan from the same input, content and engine version (so the
        same plan), without loading its (large) JSON; None when there is none."""
        stmt = (
            select(StoredPlan.id, StoredPlan.engine_version)
            .where(
                StoredPlan.input_digest == input_digest,
                StoredPlan.content_version == content_version,
            )
            .order_by(StoredPlan.created_at.desc())
            .limit(1)
        )
        row = self.session.execute(stmt).first()
        return row.id if row is not None and row.engine_version == engine_version else None


def _record(row: StoredPlan) -> PlanRecord:
    return PlanRecord(
        id=row.id,
        input_json=row.input_json,
        input_digest=row.input_digest,
        engine_version=row.engine_version,
        content_version=row.content_version,
        plan_json=row.plan_json,
        created_at=row.created_at,
        created_by=row.created_by,
    )

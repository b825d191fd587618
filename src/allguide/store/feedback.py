"""CDS Hooks feedback: what clinicians did with each card (accepted, overridden...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from allguide.store.models import CdsFeedback
from allguide.store.records import FeedbackRecord


class FeedbackRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self,
        service_id: str,
        card_uuid: str,
        outcome: str,
        payload: Mapping[str, Any],
        received_at: dt.datetime,
    ) -> int:
        row = CdsFeedback(
            service_id=service_id,
            card_uuid=card_uuid,
            outcome=outcome,
            payload=dict(payload),
            received_at=received_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def recent(
        self, *, service_id: str | None = None, card_uuid: str | None = None, limit: int = 100
    ) -> list[FeedbackRecord]:
        stmt = select(CdsFeedback).order_by(CdsFeedback.id.desc()).limit(limit)
        if service_id is not None:
            stmt = stmt.where(CdsFeedback.service_id == service_id)
        if card_uuid is not None:
            stmt = stmt.where(CdsFeedback.card_uuid == card_uuid)
        return [
            FeedbackRecord(
                r.id, r.service_id, r.card_uuid, r.outcome, dict(r.payload), r.received_at
            )
            for r in self.session.scalars(stmt)
        ]

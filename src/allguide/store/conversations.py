"""Ask conversations (follow-up questions), stored as the JSON the ask package gives."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from allguide.store.db import utc_now
from allguide.store.models import Conversation


class ConversationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def load(self, conversation_id: str) -> str | None:
        """The stored state JSON, or None for an unknown id."""
        return self.session.scalar(
            select(Conversation.state_json).where(Conversation.id == conversation_id)
        )

    def save(self, conversation_id: str, state_json: str, now: dt.datetime | None = None) -> None:
        """Insert or replace the state of a conversation."""
        now = now or utc_now()
        row = self.session.get(Conversation, conversation_id)
        if row is None:
            self.session.add(
                Conversation(
                    id=conversation_id, state_json=state_json, created_at=now, updated_at=now
                )
            )
        else:
            row.state_json, row.updated_at = state_json, now
        self.session.flush()

    def purge_before(self, cutoff: dt.datetime) -> int:
        """Delete conversations idle since before `cutoff` (questions may be personal)."""
        result = self.session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

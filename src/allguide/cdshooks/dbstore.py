"""`HookStore` on the app's database (the `allguide.store` repositories).

- Plans go through the pages' own `save_plan`, so the card's link opens the plan page
  exactly as a plan built in the web app would. A chart opened again links to the plan
  already stored; the ids of recent plans are remembered so that costs no query.
- Feedback is stored per card uuid; the same entry sent again is recognised and not
  stored twice (clients may resend).
- Accepted CDS Hooks tokens are recorded until they expire, so a token replayed to
  another worker process is refused as well.
- Every evaluation appends an audit entry (who called, which service, hookInstance, the
  card uuids and indicators, the content version); no patient data goes in it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allguide.cdshooks.jwt import Caller
from allguide.cdshooks.models import Card, FeedbackItem
from allguide.cdshooks.store import TokenReplayed, feedback_payload
from allguide.patient.model import PatientInput
from allguide.planning.plan import Plan
from allguide.store import (
    AuditLog,
    Database,
    FeedbackRepository,
    PlanRepository,
    SeenTokenRepository,
)
from allguide.store.db import utc_now
from allguide.web.deps import get_database
from allguide.web.pages.storage import save_plan

# The audit chain reads its head and appends after it: two concurrent appends on SQLite
# would pick the same sequence number. Serialise this process's appends (across processes
# `AuditLog.append` locks in the database: an advisory lock, or SQLite's write lock).
_AUDIT_LOCK = threading.Lock()
AUDIT_ATTEMPTS = 3
PURGE_EVERY = dt.timedelta(minutes=1)  # expired token ids are dropped this often
KNOWN_PLANS = 1024  # (input digest, content, engine version) -> stored plan id

_PlanKey = tuple[str, str, str]


class DatabaseStore:
    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._known: OrderedDict[_PlanKey, str] = OrderedDict()  # stored plans never change
        self._known_lock = threading.Lock()
        self._next_purge = utc_now()

    def _database(self, request: Request) -> Database:
        return self._db if self._db is not None else get_database(request)

    def writes_locally(self, request: Request) -> bool:
        return self._database(request).dialect == "sqlite"

    def save_plan(self, request: Request, patient: PatientInput, plan: Plan) -> str | None:
        """The stored plan's id; a chart opened again (same input, same content and engine
        version, so the same plan) links to the plan already stored instead of a copy."""
        key = (plan.input_digest, plan.content_version, plan.engine_version)
        with self._known_lock:
            known = self._known.get(key)
        if known is not None:
            return known
        with self._database(request).session() as session:
            plan_id = PlanRepository(session).latest_id_for(*key)
            if plan_id is None:
                plan_id = save_plan(session, patient, plan, "cds-hooks")
        if plan_id is not None:
            with self._known_lock:
                self._known[key] = plan_id
                while len(self._known) > KNOWN_PLANS:
                    self._known.popitem(last=False)
        return plan_id

    def save_feedback(
        self, request: Request, service_id: str, items: Sequence[FeedbackItem], caller: Caller
    ) -> int:
        new = 0
        with _AUDIT_LOCK, self._database(request).session() as session:
            self._record_token(session, caller)
            repo = FeedbackRepository(session)
            for item in items:
                payload = feedback_payload(item)
                seen = repo.recent(service_id=service_id, card_uuid=item.card, limit=50)
                if any(record.payload == payload for record in seen):
                    continue
                repo.save(service_id, item.card, item.outcome, payload, utc_now())
                AuditLog(session).append(
                    actor=_actor(caller),
                    action="cds.feedback",
                    target=f"cds-card:{item.card}",
                    details={"service": service_id, "outcome": item.outcome},
                )
                new += 1
        return new

    def _record_token(self, session: Session, caller: Caller) -> None:
        """Part of the caller's transaction: if the call fails, the token stays unused."""
        if caller.iss is None or caller.jti is None or caller.keep_jti_until is None:
            return  # development mode: no token
        now = utc_now()
        keep_until = dt.datetime.fromtimestamp(caller.keep_jti_until, dt.UTC)
        tokens = SeenTokenRepository(session)
        if not tokens.add_if_new(caller.iss, caller.jti, keep_until, now):
            raise TokenReplayed(f"replayed jti {caller.jti!r} (issuer {caller.iss})")
        if now >= self._next_purge:
            tokens.purge(now)
            self._next_purge = now + PURGE_EVERY

    def audit_evaluation(
        self,
        request: Request,
        *,
        service_id: str,
        hook_instance: str,
        caller: Caller,
        cards: Sequence[Card],
        content_version: str,
    ) -> None:
        details = {
            "hook_instance": hook_instance,
            "content_version": content_version,
            "jti": caller.jti,
            "tenant": caller.tenant,
            "cards": [{"uuid": c.uuid, "indicator": c.indicator} for c in cards],
        }
        for attempt in range(AUDIT_ATTEMPTS):
            try:
                with _AUDIT_LOCK, self._database(request).session() as session:
                    self._record_token(session, caller)
                    AuditLog(session).append(
                        actor=_actor(caller),
                        action="cds.evaluate",
                        target=f"cds-service:{service_id}",
                        details=details,
                    )
                return
            except IntegrityError:
                # Another process appended the same sequence number first: read the new
                # head and try again; the caller fails closed if it never succeeds.
                if attempt == AUDIT_ATTEMPTS - 1:
                    raise


def _actor(caller: Caller) -> str:
    return "cds:insecure-dev" if caller.insecure else f"cds:{caller.iss}"

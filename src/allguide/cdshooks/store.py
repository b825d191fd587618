"""Where the service keeps what it must keep: plans it built and card feedback.

`HookStore` is the seam. `DatabaseStore` uses the app's database (the `allguide.store`
repositories); `MemoryStore` keeps everything in process, for a router mounted without a
database (tests, demos). Calls are synchronous; the router runs them in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import Request

from allguide.cdshooks.jwt import Caller
from allguide.cdshooks.models import Card, FeedbackItem
from allguide.patient.model import PatientInput
from allguide.planning.plan import Plan


class TokenReplayed(Exception):
    """The caller's token was used before, possibly with another worker process (the
    verifier's in-memory cache only sees its own process)."""


class HookStore(Protocol):
    """Where the service writes. Each write that follows a call (the evaluation's audit
    entry, the feedback) also records the caller's token (`jti` per issuer) until it
    expires, in the same transaction: a token buys one call, across all workers."""

    def writes_locally(self, request: Request) -> bool:
        """True when its writes are local (memory, an SQLite file): no round trips, so a
        hook is evaluated on the event loop instead of paying for a thread hop."""

    def save_plan(self, request: Request, patient: PatientInput, plan: Plan) -> str | None:
        """Store the plan; its id (for the plan page link), or None if not stored."""

    def save_feedback(
        self, request: Request, service_id: str, items: Sequence[FeedbackItem], caller: Caller
    ) -> int:
        """Store the feedback entries of one call; returns how many were new (the same entry
        sent again is not stored twice). Raises `TokenReplayed`: then nothing is stored."""

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
        """Record that guidance was given (raises when it cannot: then none is given;
        `TokenReplayed` when the caller's token was used before)."""


def feedback_payload(item: FeedbackItem) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def feedback_key(service_id: str, item: FeedbackItem) -> str:
    """Identity of a feedback entry: the same card reported again is not a new entry."""
    body = json.dumps(feedback_payload(item), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{service_id}\n{body}".encode()).hexdigest()


class MemoryStore:
    """In-process store (bounded)."""

    def __init__(self, max_items: int = 10_000) -> None:
        self.plans: dict[str, tuple[PatientInput, Plan]] = {}
        self.feedback: dict[str, tuple[str, dict[str, Any], str | None]] = {}
        self.audit: list[dict[str, Any]] = []
        self._max = max_items
        self._lock = threading.Lock()

    def writes_locally(self, request: Request) -> bool:
        return True

    def save_plan(self, request: Request, patient: PatientInput, plan: Plan) -> str | None:
        plan_id = hashlib.sha256(
            f"{plan.input_digest}\n{plan.content_version}".encode()
        ).hexdigest()[:16]
        with self._lock:
            if len(self.plans) < self._max:
                self.plans[plan_id] = (patient, plan)
        return plan_id

    # One process: the verifier's own replay cache already refused replayed tokens.

    def save_feedback(
        self, request: Request, service_id: str, items: Sequence[FeedbackItem], caller: Caller
    ) -> int:
        new = 0
        with self._lock:
            for item in items:
                key = feedback_key(service_id, item)
                if key in self.feedback:
                    continue
                if len(self.feedback) >= self._max:
                    raise RuntimeError("feedback store is full")
                self.feedback[key] = (service_id, feedback_payload(item), caller.iss)
                new += 1
        return new

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
        with self._lock:
            if len(self.audit) >= self._max:
                del self.audit[: self._max // 2]
            self.audit.append(
                {
                    "service": service_id,
                    "hook_instance": hook_instance,
                    "iss": caller.iss,
                    "cards": [c.uuid for c in cards],
                    "content_version": content_version,
                }
            )

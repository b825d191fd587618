"""Append-only, hash-chained audit log.

Each entry's hash is sha256 over the canonical JSON of (seq, at, actor, action, target,
details, prev_hash); prev_hash is the previous entry's hash (64 zeros for the first).
Editing, deleting or reordering any entry breaks the chain from that entry on, and
`verify()` names it. (Cutting entries off the end cannot be seen from inside the chain:
keep the head hash that `verify_report()` prints somewhere else to detect that too.)

This module has no update or delete path on purpose. Details must never hold patient
data: actors and targets are user names and content ids only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from allguide.store.db import utc_now
from allguide.store.models import AuditEntry
from allguide.store.records import AuditRecord

GENESIS_HASH = "0" * 64
_LOCK_KEY = 0x61756474  # "audt": serialises appends on PostgreSQL
# Keys that would mean patient data is being logged; refused outright.
_FORBIDDEN_KEYS = frozenset(
    {"patient", "patient_input", "input_json", "plan_json", "mrn", "birth_date", "dob"}
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str,
    details: str,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": _canonical_time(at),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _check_details(details: Mapping[str, Any]) -> None:
    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if str(key).lower() in _FORBIDDEN_KEYS:
                    raise ValueError(f"audit details must not hold patient data (key '{key}')")
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)

    walk(details)


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    first_bad_seq: int | None
    entries: int
    head_hash: str
    reason: str | None


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Core statements built once: an append runs on every CDS Hooks call, and the ORM
    # unit of work cost more than the write itself.
    _TABLE = cast(Table, AuditEntry.__table__)
    _HEAD = select(_TABLE.c.seq, _TABLE.c.hash).order_by(_TABLE.c.seq.desc()).limit(1)
    _INSERT = insert(_TABLE)
    _SQLITE_WRITE_LOCK = text("INSERT INTO audit_log (seq) SELECT 0 WHERE 0")
    _PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")

    def append(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> AuditRecord:
        """Add an entry at the end of the chain (in the caller's transaction)."""
        details = dict(details or {})
        _check_details(details)
        details_text = canonical_json(details)  # TypeError for values JSON cannot hold
        at = (now or utc_now()).astimezone(dt.UTC)  # both backends keep microseconds
        conn = self.session.connection()  # the caller's transaction
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(self._PG_LOCK, {"k": _LOCK_KEY})
        elif dialect == "sqlite":
            # Take SQLite's write lock before reading the chain head: the driver begins a
            # transaction only at the first write, so without this another process (a
            # second uvicorn worker) could append the same seq between our read and insert.
            # A write statement that adds no row is enough to hold the lock.
            conn.execute(self._SQLITE_WRITE_LOCK)
        last = conn.execute(self._HEAD).first()
        seq = 1 if last is None else last.seq + 1
        prev_hash = GENESIS_HASH if last is None else last.hash
        digest = entry_hash(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            details=details_text,
            prev_hash=prev_hash,
        )
        values = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "details": details_text,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        conn.execute(self._INSERT, values)
        return AuditRecord(**{**values, "details": json.loads(details_text)})

    def entries(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        target: str | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditRecord]:
        """Newest first; `target` matches exactly or as a prefix ending in '@' or '/'."""
        stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
        if target is not None:
            stmt = stmt.where(
                (AuditEntry.target == target)
                | AuditEntry.target.startswith(target + "@", autoescape=True)
                | AuditEntry.target.startswith(target + "/", autoescape=True)
            )
        if actor is not None:
            stmt = stmt.where(AuditEntry.actor == actor)
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return [_record(r) for r in self.session.scalars(stmt)]

    def verify(self) -> tuple[bool, int | None]:
        """(True, None) when the chain is intact, else (False, seq of the first bad entry)."""
        report = self.verify_report()
        return report.ok, report.first_bad_seq

    def verify_report(self) -> AuditVerification:
        prev_hash = GENESIS_HASH
        expected_seq = 1
        count = 0
        rows = self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
        )
        for row in rows:
            reason = None
            if row.seq != expected_seq:
                reason = f"entry {expected_seq} is missing (next entry is {row.seq})"
            elif row.prev_hash != prev_hash:
                reason = "prev_hash does not match the previous entry's hash"
            elif row.hash != entry_hash(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                target=row.target,
                details=row.details,
                prev_hash=row.prev_hash,
            ):
                reason = "contents do not match the entry's hash (edited after writing)"
            if reason is not None:
                return AuditVerification(False, row.seq, count, prev_hash, reason)
            prev_hash = row.hash
            expected_seq += 1
            count += 1
        return AuditVerification(True, None, count, prev_hash, None)


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )

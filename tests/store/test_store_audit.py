"""The audit log is a hash chain: intact chains verify, any edit or deletion is caught."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from allguide.store import AuditLog, Database

T0 = dt.datetime(2026, 1, 5, 9, 30, 0, 123456, tzinfo=dt.UTC)


def _write_three(db: Database) -> None:
    with db.session() as s:
        log = AuditLog(s)
        for i, action in enumerate(("content.edit", "content.submit", "content.approve")):
            log.append(
                actor="alice" if i < 2 else "bob",
                action=action,
                target="statements/stmt.mrd.end_of_induction@v2",
                details={"version": 2, "comment": "Zeile ä ✓" if i == 2 else None},
                now=T0 + dt.timedelta(minutes=i),
            )


def test_chain_links_and_verifies(empty_db: Database) -> None:
    with empty_db.session() as s:
        assert AuditLog(s).verify() == (True, None)  # empty log is intact
    _write_three(empty_db)
    with empty_db.session() as s:
        log = AuditLog(s)
        entries = list(reversed(log.entries()))
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == "0" * 64
        assert entries[1].prev_hash == entries[0].hash
        assert entries[2].at == T0 + dt.timedelta(minutes=2)  # microseconds and zone survive
        assert entries[2].details["comment"] == "Zeile ä ✓"
        assert log.verify() == (True, None)
        assert log.verify_report().head_hash == entries[2].hash
        assert [e.seq for e in log.entries(actor="bob")] == [3]
        assert len(log.entries(target="statements/stmt.mrd.end_of_induction")) == 3


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2),
        ("UPDATE audit_log SET details = '{}' WHERE seq = 1", 1),
        ("UPDATE audit_log SET at = at + INTERVAL '1 hour' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 3),
    ],
    ids=["actor", "details", "time", "deleted"],
)
def test_tampering_with_sql_is_detected(empty_db: Database, sql: str, bad_seq: int) -> None:
    _write_three(empty_db)
    if empty_db.dialect == "sqlite":
        sql = sql.replace("at + INTERVAL '1 hour'", "datetime(at, '+1 hour')")
    with empty_db.engine.begin() as conn:
        conn.execute(text(sql))
    with empty_db.session() as s:
        ok, first_bad = AuditLog(s).verify()
    assert (ok, first_bad) == (False, bad_seq)


def test_rehashing_an_edited_entry_still_breaks_the_next_link(empty_db: Database) -> None:
    """An attacker who recomputes entry 2's hash is caught at entry 3's prev_hash."""
    from allguide.store.audit import entry_hash

    _write_three(empty_db)
    with empty_db.session() as s:
        two = next(e for e in AuditLog(s).entries() if e.seq == 2)
    forged = entry_hash(
        seq=2,
        at=two.at,
        actor="mallory",
        action=two.action,
        target=two.target,
        details='{"comment":null,"version":2}',
        prev_hash=two.prev_hash,
    )
    with empty_db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 2"), {"h": forged}
        )
    with empty_db.session() as s:
        report = AuditLog(s).verify_report()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "prev_hash" in (report.reason or "")


def test_refuses_patient_data_in_details(empty_db: Database) -> None:
    with empty_db.session() as s, pytest.raises(ValueError, match="patient data"):
        AuditLog(s).append(
            actor="alice", action="plan.view", target="plan/x", details={"patient": {"age": 4}}
        )


def test_no_update_or_delete_paths_in_code() -> None:
    """Append-only by construction: the audit module never updates or deletes."""
    import inspect

    import allguide.store.audit as audit

    source = inspect.getsource(audit)
    for word in ("update(", "delete(", "UPDATE ", "DELETE ", ".merge("):
        assert word not in source

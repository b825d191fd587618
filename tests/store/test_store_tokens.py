"""CDS Hooks replay protection in the database: one acceptance per token across workers."""

from __future__ import annotations

import datetime as dt

from allguide.store import Database, SeenTokenRepository

T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(minutes=5)


def _add(db: Database, issuer: str, jti: str, now: dt.datetime) -> bool:
    with db.session() as s:
        return SeenTokenRepository(s).add_if_new(issuer, jti, LATER, now)


def test_a_token_is_accepted_once_until_it_expires(db: Database) -> None:
    assert _add(db, "https://ehr.example", "abc", T0)
    assert not _add(db, "https://ehr.example", "abc", T0 + dt.timedelta(minutes=1))  # replay
    assert _add(db, "https://other.example", "abc", T0)  # jti is per issuer
    assert _add(db, "https://ehr.example", "abd", T0)
    # once expired the row no longer blocks (the token itself is refused by its exp)
    assert _add(db, "https://ehr.example", "abc", LATER + dt.timedelta(seconds=1))


def test_any_length_of_jti_fits(db: Database) -> None:
    long_jti = "x" * 5000
    assert _add(db, "https://ehr.example", long_jti, T0)
    assert not _add(db, "https://ehr.example", long_jti, T0)


def test_purge_drops_only_expired_entries(db: Database) -> None:
    assert _add(db, "https://ehr.example", "a", T0)
    with db.session() as s:
        assert SeenTokenRepository(s).purge(T0) == 0
        assert SeenTokenRepository(s).purge(LATER) == 1
    assert _add(db, "https://ehr.example", "a", T0)

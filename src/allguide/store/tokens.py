"""CDS Hooks tokens already accepted (`jti` per issuer), shared by every worker process.

A replayed token must be refused even when another worker accepted it first, so the
in-process cache of the verifier is backed by this table. Rows are dropped once the
token has expired: an expired token is refused by its `exp` anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from allguide.store.models import CdsSeenToken

_TABLE = cast(Table, CdsSeenToken.__table__)


def _add_statement(dialect: str) -> Any:
    """INSERT the token, or take over the row of an expired one; RETURNING a row only
    then. One statement: of two workers racing with the same token, exactly one gets a
    row back. Built once per dialect (Core, bound parameters): this runs on every call."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(_TABLE).values(
        issuer=bindparam("issuer"),
        jti_sha256=bindparam("jti_sha256"),
        keep_until=bindparam("keep_until", type_=_TABLE.c.keep_until.type),
    )
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.issuer, _TABLE.c.jti_sha256],
        set_={"keep_until": stmt.excluded.keep_until},
        where=_TABLE.c.keep_until <= bindparam("now", type_=_TABLE.c.keep_until.type),
    ).returning(_TABLE.c.issuer)


_ADD: dict[str, Any] = {}


class SeenTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_if_new(self, issuer: str, jti: str, keep_until: dt.datetime, now: dt.datetime) -> bool:
        """Record the token; False when it is already recorded and not expired (a replay).
        The `jti` is kept as its SHA-256, so any length fits."""
        connection = self.session.connection()
        dialect = connection.dialect.name
        stmt = _ADD.get(dialect)
        if stmt is None:
            stmt = _ADD[dialect] = _add_statement(dialect)
        params = {
            "issuer": issuer,
            "jti_sha256": hashlib.sha256(jti.encode()).hexdigest(),
            "keep_until": keep_until,
            "now": now,
        }
        return connection.execute(stmt, params).first() is not None

    def purge(self, now: dt.datetime) -> int:
        """Drop the expired entries; returns how many."""
        result = self.session.execute(delete(CdsSeenToken).where(CdsSeenToken.keep_until <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]

"""Editorial accounts and API tokens (hashing lives in `allguide.accounts`)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allguide.accounts.passwords import (
    WeakPasswordError,
    check_password_strength,
    dummy_hash,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from allguide.accounts.roles import Role, parse_role
from allguide.accounts.tokens import hash_token, new_session_id, new_token
from allguide.store.db import utc_now
from allguide.store.models import ApiToken, User, UserSession
from allguide.store.records import ApiTokenRecord, UserRecord

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    """A user cannot be created or changed; the message says why."""


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ users

    def add(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        display_name: str | None = None,
        now: dt.datetime | None = None,
    ) -> UserRecord:
        if not USERNAME_PATTERN.fullmatch(username):
            raise UserError(
                f"username '{username}': use 2-64 lowercase letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        try:
            role = role if isinstance(role, Role) else parse_role(role)
            check_password_strength(password)
        except (ValueError, WeakPasswordError) as exc:
            raise UserError(str(exc)) from None
        if self._user(username) is not None:
            raise UserError(f"user '{username}' already exists")
        row = User(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role.value,
            active=True,
            created_at=now or utc_now(),
        )
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError:  # created concurrently
            raise UserError(f"user '{username}' already exists") from None
        return _user_record(row)

    def get(self, username: str) -> UserRecord | None:
        row = self._user(username)
        return None if row is None else _user_record(row)

    def get_by_id(self, user_id: int) -> UserRecord | None:
        row = self.session.get(User, user_id)
        return None if row is None else _user_record(row)

    def all(self) -> list[UserRecord]:
        return [_user_record(r) for r in self.session.scalars(select(User).order_by(User.username))]

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The active user with this password, else None (same cost either way)."""
        row = self._user(username)
        if row is None:
            verify_password(dummy_hash(), password)
            return None
        if not verify_password(row.password_hash, password) or not row.active:
            return None
        if password_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
            self.session.flush()
        return _user_record(row)

    def set_password(self, username: str, password: str) -> None:
        try:
            check_password_strength(password)
        except WeakPasswordError as exc:
            raise UserError(str(exc)) from None
        self._require(username).password_hash = hash_password(password)
        self.session.flush()

    def set_role(self, username: str, role: Role | str) -> UserRecord:
        try:
            role = role if isinstance(role, Role) else parse_role(role)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        row = self._require(username)
        row.role = role.value
        self.session.flush()
        return _user_record(row)

    def set_active(self, username: str, active: bool) -> UserRecord:
        """Disable or re-enable an account (users are never deleted: the audit log names them)."""
        row = self._require(username)
        row.active = active
        self.session.flush()
        return _user_record(row)

    # ------------------------------------------------------------------ API tokens

    def issue_token(
        self, username: str, *, label: str = "api", now: dt.datetime | None = None
    ) -> tuple[str, ApiTokenRecord]:
        """A new API token: (plaintext to show once, record). Only its hash is stored."""
        row = self._require(username)
        token, digest = new_token()
        token_row = ApiToken(
            user_id=row.id, token_hash=digest, label=label[:100], created_at=now or utc_now()
        )
        self.session.add(token_row)
        self.session.flush()
        return token, _token_record(token_row, username)

    def user_for_token(self, token: str) -> UserRecord | None:
        """The active user owning this unrevoked token, else None."""
        row = self.session.execute(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        ).scalar_one_or_none()
        if row is None or not row.active:
            return None
        return _user_record(row)

    def tokens(self, username: str) -> list[ApiTokenRecord]:
        row = self._require(username)
        rows = self.session.scalars(
            select(ApiToken).where(ApiToken.user_id == row.id).order_by(ApiToken.id)
        )
        return [_token_record(t, username) for t in rows]

    def revoke_token(self, token_id: int, *, now: dt.datetime | None = None) -> bool:
        """Revoke by id; False when no such active token."""
        row = self.session.get(ApiToken, token_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now or utc_now()
        self.session.flush()
        return True

    # ------------------------------------------------------------------ internals

    # --- browser sessions (the signed cookie holds the id; the database says it is open)

    def open_session(
        self, user_id: int, *, now: dt.datetime | None = None, max_age: dt.timedelta | None = None
    ) -> str:
        """A new session id for the user's cookie. Sessions older than `max_age` (expired
        by the cookie's own absolute timeout anyway) are dropped on the way."""
        now = now or utc_now()
        if max_age is not None:
            self.session.execute(delete(UserSession).where(UserSession.created_at < now - max_age))
        session_id, digest = new_session_id()
        self.session.add(UserSession(id_sha256=digest, user_id=user_id, created_at=now))
        self.session.flush()
        return session_id

    def session_is_open(self, session_id: str, user_id: int) -> bool:
        row = self.session.get(UserSession, hash_token(session_id))
        return row is not None and row.user_id == user_id

    def close_session(self, session_id: str) -> bool:
        """End one session (sign out); False when it was not open."""
        result = self.session.execute(
            delete(UserSession).where(UserSession.id_sha256 == hash_token(session_id))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _user(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(User.username == username)).first()

    def _require(self, username: str) -> User:
        row = self._user(username)
        if row is None:
            raise UserError(f"no user '{username}'")
        return row


def _user_record(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        display_name=row.display_name,
        active=row.active,
        created_at=row.created_at,
    )


def _token_record(row: ApiToken, username: str) -> ApiTokenRecord:
    return ApiTokenRecord(row.id, username, row.label, row.created_at, row.revoked_at)

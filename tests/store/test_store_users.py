"""Accounts: argon2 passwords, roles, API tokens stored only as hashes."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from allguide.accounts import Role
from allguide.store import Database, UserError, UserRepository
from allguide.store.models import ApiToken, User

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def test_add_and_authenticate(empty_db: Database) -> None:
    with empty_db.session() as s:
        users = UserRepository(s)
        alice = users.add("alice", PASSWORD, "author", display_name="Alice A.")
        assert alice.role is Role.author
        stored = s.scalars(select(User.password_hash)).one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with empty_db.session() as s:
        users = UserRepository(s)
        assert users.authenticate("alice", PASSWORD) == alice
        assert users.authenticate("alice", "wrong password!") is None
        assert users.authenticate("nobody", PASSWORD) is None
        users.set_active("alice", False)
        assert users.authenticate("alice", PASSWORD) is None  # disabled accounts cannot log in


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("alice", PASSWORD, "author", "already exists"),
        ("Bob Smith", PASSWORD, "author", "lowercase letters"),
        ("bob", "short", "author", "at least 10"),
        ("bob", PASSWORD, "editor", "unknown role 'editor'"),
    ],
)
def test_add_refuses_bad_accounts(
    empty_db: Database, username: str, password: str, role: str, message: str
) -> None:
    with empty_db.session() as s:
        UserRepository(s).add("alice", PASSWORD, "author")
    with empty_db.session() as s, pytest.raises(UserError, match=message):
        UserRepository(s).add(username, password, role)


def test_api_tokens_are_shown_once_and_stored_hashed(empty_db: Database) -> None:
    with empty_db.session() as s:
        users = UserRepository(s)
        users.add("rita", PASSWORD, Role.reviewer)
        token, record = users.issue_token("rita", label="ci")
        assert token.startswith("agt_") and len(token) > 40
        assert (
            s.scalars(select(ApiToken.token_hash)).one()
            == hashlib.sha256(token.encode()).hexdigest()
        )
    with empty_db.session() as s:
        users = UserRepository(s)
        user = users.user_for_token(token)
        assert user is not None and user.username == "rita" and user.role is Role.reviewer
        assert users.user_for_token(token + "x") is None
        assert users.revoke_token(record.id)
        assert users.user_for_token(token) is None
        assert [t.revoked_at is not None for t in users.tokens("rita")] == [True]
    with empty_db.session() as s, pytest.raises(UserError, match="no user 'ghost'"):
        UserRepository(s).issue_token("ghost")


def test_browser_sessions_open_close_and_expire(empty_db: Database) -> None:
    import datetime as dt

    from allguide.store.models import UserSession

    t0 = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    day = dt.timedelta(hours=24)
    with empty_db.session() as s:
        users = UserRepository(s)
        alice = users.add("alice", PASSWORD, "author")
        bob = users.add("bob", PASSWORD, "reviewer")
        first = users.open_session(alice.id, now=t0)
        second = users.open_session(alice.id, now=t0 + dt.timedelta(hours=1))
        stored = set(s.scalars(select(UserSession.id_sha256)))
        assert stored == {hashlib.sha256(x.encode()).hexdigest() for x in (first, second)}
    with empty_db.session() as s:
        users = UserRepository(s)
        assert users.session_is_open(first, alice.id)
        assert not users.session_is_open(first, bob.id)  # a session belongs to one user
        assert users.close_session(first) and not users.close_session(first)
        assert not users.session_is_open(first, alice.id)
        assert users.session_is_open(second, alice.id)  # other sessions stay open
        # opening a session drops those older than the absolute timeout
        users.open_session(bob.id, now=t0 + day + dt.timedelta(hours=2), max_age=day)
        assert not users.session_is_open(second, alice.id)

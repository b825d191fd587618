"""Account primitives with the real parameters (no database)."""

from __future__ import annotations

import pytest

from allguide.accounts import (
    Role,
    can_edit,
    can_review,
    hash_password,
    hash_token,
    looks_like_token,
    new_token,
    parse_role,
    password_needs_rehash,
    verify_password,
)


def test_argon2id_hash_with_current_parameters() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterx")
    assert not verify_password("not a hash", "x")
    assert not password_needs_rehash(stored)
    assert password_needs_rehash("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g")


def test_tokens_are_random_and_hashed() -> None:
    (a, ha), (b, hb) = new_token(), new_token()
    assert a != b and ha != hb and len(ha) == 64
    assert hash_token(a) == ha and looks_like_token(a) and not looks_like_token("agt_x")


def test_roles() -> None:
    assert parse_role(" Reviewer ") is Role.reviewer
    with pytest.raises(ValueError, match="expected one of author, reviewer, admin"):
        parse_role("editor")
    assert [r for r in Role if can_edit(r)] == [Role.author, Role.admin]
    assert [r for r in Role if can_review(r)] == [Role.reviewer, Role.admin]

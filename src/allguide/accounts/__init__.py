"""Accounts: roles, password hashing and API tokens (no database code here; see `store`)."""

from allguide.accounts.passwords import (
    WeakPasswordError,
    check_password_strength,
    hash_password,
    password_needs_rehash,
    verify_password,
)
from allguide.accounts.roles import Role, can_edit, can_review, parse_role
from allguide.accounts.tokens import TOKEN_PREFIX, hash_token, looks_like_token, new_token

__all__ = [
    "TOKEN_PREFIX",
    "Role",
    "WeakPasswordError",
    "can_edit",
    "can_review",
    "check_password_strength",
    "hash_password",
    "hash_token",
    "looks_like_token",
    "new_token",
    "parse_role",
    "password_needs_rehash",
    "verify_password",
]

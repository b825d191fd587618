"""API tokens: random secrets shown once; only their SHA-256 is stored.

A token has 256 bits of randomness, so a fast unsalted hash is enough to make a stolen
database useless for authentication (no dictionary to attack), and lookup stays one
indexed equality query.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "agt_"  # lets secret scanners and log filters recognise allguide tokens
_TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """(plaintext token to show once, hash to store)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and len(value) > len(TOKEN_PREFIX) + 20

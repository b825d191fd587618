"""API tokens and browser session ids: random secrets; only their SHA-256 is stored.

Each has 256 bits of randomness, so a fast unsalted hash is enough to make a stolen
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


def new_session_id() -> tuple[str, str]:
    """(id for the signed session cookie, hash to store)."""
    session_id = secrets.token_urlsafe(_TOKEN_BYTES)
    return session_id, hash_token(session_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX) and len(value) > len(TOKEN_PREFIX) + 20

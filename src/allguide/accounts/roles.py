"""Editorial roles and what each may do.

- author: writes new draft versions and submits them for review.
- reviewer: approves, rejects and retires (never their own work).
- admin: everything, including managing users; still never reviews their own work.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    author = "author"
    reviewer = "reviewer"
    admin = "admin"


def parse_role(value: str) -> Role:
    """The role named by `value`; ValueError naming the allowed roles otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role '{value}': expected one of {allowed}") from None


def can_edit(role: Role) -> bool:
    return role in (Role.author, Role.admin)


def can_review(role: Role) -> bool:
    return role in (Role.reviewer, Role.admin)

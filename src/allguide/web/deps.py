"""FastAPI dependencies shared by the API, the pages and the CDS Hooks router.

- `get_settings`, `get_served` / `get_pack` / `get_index`: what the app serves now (one
  consistent snapshot per request, see `state.py`).
- `get_db`: a database session for the request. Use the `DbSession` alias: it commits
  *before* the response is sent (FastAPI's default for `yield` dependencies is after), so a
  client that reads right after a write always sees it, and a failed commit is a 500,
  never a silent loss.
- `current_user`: `Authorization: Bearer <api token>` (API) or the session cookie (pages);
  `require_user`, `require_role(...)`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from allguide.accounts import Role
from allguide.ask import AskIndex
from allguide.knowledge.pack import ContentPack
from allguide.store import Database, UserRecord, UserRepository
from allguide.web.errors import Forbidden, Unauthorized
from allguide.web.middleware import route_template
from allguide.web.security import end_session, session_id, session_user_id
from allguide.web.settings import Settings
from allguide.web.state import ContentState, Served

log = logging.getLogger("allguide.web.security")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def content_state(request: Request) -> ContentState:
    state: ContentState = request.app.state.content
    return state


async def get_served(request: Request) -> Served:
    """The content snapshot for this request (FastAPI caches it per request)."""
    return content_state(request).current


async def get_pack(served: Annotated[Served, Depends(get_served)]) -> ContentPack:
    return served.pack


async def get_index(served: Annotated[Served, Depends(get_served)]) -> AskIndex:
    return served.index


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_db(request: Request) -> Iterator[Session]:
    """A unit of work: committed when the endpoint returns, rolled back if it raises."""
    with get_database(request).session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def write_lock(request: Request) -> contextlib.AbstractContextManager[object]:
    """Held around a write transaction on SQLite (one writer at a time): waiting here is
    fair and immediate, unlike SQLite's busy handler. A no-op on PostgreSQL."""
    lock: contextlib.AbstractContextManager[object] = request.app.state.write_lock
    return lock


def refresh_content(request: Request) -> Served:
    """Call after an editorial change in this request has been committed: swaps in the new
    content version at once (other workers pick it up within `content_poll_seconds`)."""
    return content_state(request).refresh()


# --- authentication ---------------------------------------------------------------------------


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("malformed Authorization header; expected 'Bearer <api token>'")
    return token.strip()


def current_user(request: Request, db: DbSession) -> UserRecord | None:
    """The authenticated user, or None for an anonymous request.

    A bearer token that is wrong, revoked or belongs to a disabled account is a 401,
    never a silent fall back to anonymous. Usable as a dependency or called directly
    with the request's session.
    """
    claim = _claim(request)
    if not isinstance(claim, _Claim):
        return claim
    return _remember(request, claim.token, _lookup_user(db, claim))


async def optional_user(request: Request) -> UserRecord | None:
    """`current_user` for hot paths: an anonymous request never opens a database session
    or leaves the event loop."""
    claim = _claim(request)
    if not isinstance(claim, _Claim):
        return claim

    def lookup() -> UserRecord | None:
        with get_database(request).session() as session:
            return _lookup_user(session, claim)

    return _remember(request, claim.token, await run_in_threadpool(lookup))


@dataclass(frozen=True)
class _Claim:
    """Who a request says it is: an API token, or a session cookie's user and session id."""

    token: str | None
    uid: str | None = None
    sid: str | None = None


def _claim(request: Request) -> UserRecord | _Claim | None:
    """The user already resolved for this request, a claim to look up, or None (anonymous:
    no database needed)."""
    cached = getattr(request.state, "user", None)
    if isinstance(cached, UserRecord):
        return cached
    token = _bearer_token(request)
    if token is not None:
        return _Claim(token)
    uid = session_user_id(request, request.app.state.settings)
    if uid is None or not uid.isdigit():
        return None
    return _Claim(None, uid, session_id(request))


def _lookup_user(db: Session, claim: _Claim) -> UserRecord | None:
    users = UserRepository(db)
    if claim.token is not None:
        return users.user_for_token(claim.token)
    user = users.get_by_id(int(claim.uid or 0))
    if user is None or not user.active:
        return None
    # A signed cookie alone is not enough: its session must still be open (not signed out).
    if claim.sid is None or not users.session_is_open(claim.sid, user.id):
        return None
    return user


def _remember(request: Request, token: str | None, user: UserRecord | None) -> UserRecord | None:
    if user is None:
        if token is not None:
            log.warning("rejected API token: %s %s", request.method, _route(request))
            raise Unauthorized("invalid or revoked API token")
        end_session(request)  # signed out elsewhere, or the account was disabled or removed
        return None
    request.state.user = user
    return user


CurrentUser = Annotated[UserRecord | None, Depends(current_user)]
OptionalUser = Annotated[UserRecord | None, Depends(optional_user)]


def require_user(user: CurrentUser) -> UserRecord:
    if user is None:
        raise Unauthorized()
    return user


def require_role(*roles: Role) -> Callable[[Request, UserRecord], UserRecord]:
    """Dependency factory: the user must hold one of `roles` (403 otherwise)."""
    allowed = frozenset(roles)

    def dependency(
        request: Request, user: Annotated[UserRecord, Depends(require_user)]
    ) -> UserRecord:
        if user.role not in allowed:
            log.warning("forbidden: %s (%s) on %s", user.username, user.role, _route(request))
            names = " or ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"this needs the {names} role; {user.username} is {user.role.value}")
        return user

    return dependency


def _route(request: Request) -> str:
    return route_template(request.scope)

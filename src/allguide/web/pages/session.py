"""Who is signed in on a page request, and signing in and out.

The user is resolved by the app's `current_user` (session cookie; an API token also works
but browsers never send one) and kept in `request.state.user` for the page header.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy.orm import Session

from allguide.store import UserRecord, UserRepository
from allguide.web.deps import current_user
from allguide.web.security import end_session, session_id, start_session


def page_user(request: Request, db: Session) -> UserRecord | None:
    """The signed-in, active user, or None."""
    return current_user(request, db)


def sign_in(request: Request, db: Session, username: str, password: str) -> UserRecord | None:
    users = UserRepository(db)
    user = users.authenticate(username, password)
    if user is None:
        return None
    settings = request.app.state.settings
    sid = users.open_session(user.id, max_age=dt.timedelta(hours=settings.session_max_hours))
    start_session(request, user.id, sid)
    request.state.user = user
    return user


def sign_out(request: Request, db: Session) -> None:
    """End the session on the server (a copy of the cookie stops working) and in the cookie."""
    sid = session_id(request)
    if sid is not None:
        UserRepository(db).close_session(sid)
    end_session(request)
    request.state.user = None

"""Sessions, CSRF, login/logout and rate-limit dependencies.

* Sessions: Starlette's signed-cookie `SessionMiddleware` (HMAC via itsdangerous), cookie
  `HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` prefixed unless plain-http dev mode.
  The cookie holds only the user id, login time, last-seen time and the CSRF token. Idle
  and absolute timeouts are checked on every request (`deps.current_user`); login
  replaces the whole session (new CSRF token, new cookie value).
* CSRF: synchronizer token kept in the session. Templates put `csrf_token(request)` in a
  hidden `csrf_token` field (or scripts send it as `X-CSRF-Token`); `verify_csrf` refuses a
  state-changing request without it. Requests authenticated by an API bearer token are
  exempt: a browser never adds that header on its own, so it cannot be forged cross-site.
* Rate limits: token buckets per client address, one set for login and one for writes.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from allguide.web.errors import ApiError, RateLimited
from allguide.web.middleware import route_template
from allguide.web.ratelimit import TokenBuckets
from allguide.web.settings import Settings

log = logging.getLogger("allguide.web.security")

CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_USER = "uid"
SESSION_LOGIN_AT = "login_at"
SESSION_SEEN_AT = "seen_at"
SESSION_ID = "sid"  # the server-side session (store.UserRepository.open_session)
SEEN_REFRESH_SECONDS = 60  # re-sign the cookie at most once a minute to slide the idle window


class CsrfFailed(ApiError):
    status = 403
    code = "csrf_failed"


def session_cookie_name(settings: Settings) -> str:
    # `__Host-` binds the cookie to this exact host, https and path / (ASVS 3.3.3).
    return "__Host-allguide_session" if settings.secure_cookies else "allguide_session"


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=session_cookie_name(settings),
        # The cookie's own lifetime is the absolute limit; idle time is checked per request.
        max_age=settings.session_max_hours * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )


# --- CSRF -------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); put it in every form."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


async def verify_csrf(request: Request) -> None:
    """Dependency for state-changing form posts: the form must carry the session's token."""
    if request.method in SAFE_METHODS or has_bearer(request):
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent: Any = request.headers.get(CSRF_HEADER)
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette; the endpoint reads it again
            sent = form.get(CSRF_FORM_FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(sent, str)
        or not secrets.compare_digest(sent.encode(), expected.encode())
    ):
        log.warning("CSRF check failed: %s %s", request.method, request.url.path)
        raise CsrfFailed(
            "this form has expired or did not come from this site; reload the page and try again"
        )


# --- sessions ---------------------------------------------------------------------------------


def start_session(
    request: Request, user_id: str | int, session_id: str, *, now: float | None = None
) -> None:
    """Log a user in: replace the whole session, so any token planted before login is gone.
    `session_id` names the server-side session that signing out deletes."""
    stamp = int(time.time() if now is None else now)
    request.session.clear()
    request.session.update(
        {
            SESSION_USER: str(user_id),
            SESSION_ID: session_id,
            SESSION_LOGIN_AT: stamp,
            SESSION_SEEN_AT: stamp,
            CSRF_SESSION_KEY: secrets.token_urlsafe(32),
        }
    )


def end_session(request: Request) -> None:
    request.session.clear()


def session_id(request: Request) -> str | None:
    """The server-side session id in the cookie, if any."""
    if "session" not in request.scope:
        return None
    value = request.session.get(SESSION_ID)
    return value if isinstance(value, str) and value else None


def session_user_id(
    request: Request, settings: Settings, *, now: float | None = None
) -> str | None:
    """The logged-in user id, or None when absent or timed out (the session is then cleared)."""
    if "session" not in request.scope:
        return None
    session = request.session
    uid = session.get(SESSION_USER)
    if not uid:
        return None
    t = time.time() if now is None else now
    login_at = _int(session.get(SESSION_LOGIN_AT))
    seen_at = _int(session.get(SESSION_SEEN_AT))
    if (
        t - login_at > settings.session_max_hours * 3600
        or t - seen_at > settings.session_idle_minutes * 60
    ):
        session.clear()
        return None
    if t - seen_at >= SEEN_REFRESH_SECONDS:
        session[SESSION_SEEN_AT] = int(t)
    return str(uid)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


# --- rate limits ------------------------------------------------------------------------------


class RateLimiters:
    """The app's buckets; kept in `app.state.rate_limiters`."""

    def __init__(self, settings: Settings) -> None:
        # Login guesses are the limit that matters across workers: each takes its share.
        # Writes keep the full limit per worker (an API client stays on one connection).
        self.login = TokenBuckets(settings.rate_limit_login.share(settings.workers))
        self.write = TokenBuckets(settings.rate_limit_write)

    def reset(self) -> None:
        self.login.reset()
        self.write.reset()


def client_key(request: Request) -> str:
    # The peer address as uvicorn resolved it (proxy headers only from trusted proxies).
    return request.client.host if request.client else "unknown"


def _limiter(pick: Callable[[RateLimiters], TokenBuckets]) -> Callable[[Request], Awaitable[None]]:
    async def dependency(request: Request) -> None:
        buckets = pick(request.app.state.rate_limiters)
        route = route_template(request.scope)
        wait = buckets.take(f"{client_key(request)} {request.method} {route}")
        if wait:
            log.warning("rate limit hit: %s %s", request.method, route)
            raise RateLimited(wait)

    return dependency


# Dependencies: `Depends(limit_login)` on the login form, `Depends(limit_writes)` on writes.
limit_login = _limiter(lambda r: r.login)
limit_writes = _limiter(lambda r: r.write)

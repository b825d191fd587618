"""The outermost layer of the app: request id, body limit, security headers, access log,
and the last-resort 500.

Pure ASGI (not `BaseHTTPMiddleware`): it runs on every request, so it stays cheap.

The access log records method, *route template* (`/api/v1/plans/{plan_id}`, never the
concrete path or query string), status and duration: no patient data, no tokens.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Mapping

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allguide.web.errors import ApiError, envelope

log = logging.getLogger("allguide.web")
access_log = logging.getLogger("allguide.web.access")

# No inline script or style anywhere: pages use files under /static only.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"


# Request ids: unique, not secret. A per-process random prefix and a counter cost no
# system call (os.urandom per request showed up in the profile).
_ID_PREFIX = secrets.token_hex(4)
_ids = itertools.count(1)


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class RequestContext:
    """Wraps the whole app. One instance per app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        max_body_bytes: int,
        path_csp: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_csp = dict(path_csp or {})
        base = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            base.append((b"strict-transport-security", HSTS.encode()))
        self.base_headers = base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{_ID_PREFIX}{next(_ids):08x}"
        scope["request_id"] = request_id
        started = time.perf_counter()
        status_holder = [0]
        path: str = scope["path"]
        csp = self.path_csp.get(path, DEFAULT_CSP).encode()
        no_store = not path.startswith("/static/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers: list[tuple[bytes, bytes]] = []
                has_cache_control = False
                for name, value in message.get("headers", ()):
                    lname = name.lower()
                    if lname == b"content-type" and value == b"application/json":
                        value = b"application/json; charset=utf-8"
                    elif lname == b"cache-control":
                        has_cache_control = True
                    headers.append((name, value))
                headers.extend(self.base_headers)
                headers.append((b"content-security-policy", csp))
                headers.append((b"x-request-id", request_id.encode()))
                # Plans and answers may carry patient data: no shared or disk caches.
                if no_store and not has_cache_control:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        too_large = _declared_length(scope) > self.max_body_bytes
        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(f"request body over {self.max_body_bytes} bytes")
            return message

        try:
            if too_large:
                raise PayloadTooLarge(f"request body over {self.max_body_bytes} bytes")
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:
            if status_holder[0]:  # response already started: nothing more we can send
                log.exception("error after response start [request_id=%s]", request_id)
                raise
            request = Request(scope)
            if isinstance(exc, ApiError):
                response = envelope(request, exc.status, exc.code, exc.message, (), exc.headers)
            else:
                # The trace stays in the server log; the client gets the request id only.
                log.exception("unhandled error [request_id=%s]", request_id)
                response = envelope(
                    request,
                    500,
                    "internal_error",
                    "internal error; the server log has details under this request id",
                )
            await response(scope, receive, send_wrapper)
        finally:
            access_log.info(
                "%s %s %d %.1fms [request_id=%s]",
                scope["method"],
                route_template(scope),
                status_holder[0],
                (time.perf_counter() - started) * 1000,
                request_id,
            )


def route_template(scope: Scope) -> str:
    """The matched route with its parameters as `{name}`: `/api/v1/plans/{plan_id}`.

    Built from the concrete path and the matched path parameters, so it works for every
    kind of route; an unmatched path is never logged (it could hold anything).
    """
    if "endpoint" not in scope:
        return "<unmatched>"
    params = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    if not params:
        return str(scope["path"])
    return "/".join(
        f"{{{params[segment]}}}" if segment in params else segment
        for segment in str(scope["path"]).split("/")
    )


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0

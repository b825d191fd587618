"""One error envelope for every API error, rendered in one place.

    {"error": {"status": 422, "code": "invalid_input", "message": "...",
               "fields": [{"field": "wbc_x10e9_per_l", "value": -3, "expected": "..."}]},
     "request_id": "3f9c..."}

Handlers map each kind of failure to it: typed `ApiError`s raised by our code, request
validation (pydantic), patient and order `InputError`s from the core, Starlette's HTTP
exceptions (404, 405, ...). Unhandled exceptions become a 500 envelope without any detail
(the stack trace is logged server-side with the request id; see `middleware.py`).
Browser pages get an HTML error page instead of JSON.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from allguide.patient.intake import InputError as PatientInputError

log = logging.getLogger("allguide.web")

MAX_VALUE_CHARS = 200  # echoed input is truncated: an error must not mirror a huge body


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. `patient.wbc`")
    value: Any = Field(default=None, description="The value received (null when missing)")
    expected: str = Field(description="What is expected instead")


class ErrorBody(BaseModel):
    status: int = Field(description="HTTP status code, repeated for convenience")
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_input`")
    message: str = Field(description="Human-readable summary; never a stack trace")
    fields: list[FieldProblem] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    """The body of every API error response."""

    error: ErrorBody
    request_id: str = Field(description="Quote it when reporting a problem; it is in the logs")


# --- typed errors raised by our own code ----------------------------------------------------


class ApiError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = list(fields)
        self.headers = dict(headers or {})


class InvalidInput(ApiError):
    status = 422
    code = "invalid_input"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many requests; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def code_for(status: int) -> str:
    return _CODES.get(status, "error")


# --- rendering --------------------------------------------------------------------------------

# A renderer for a URL prefix, for parts of the app with their own error format (CDS Hooks
# wants an OperationOutcome). It gets (request, status, code, message, headers).
ErrorRenderer = Callable[[Request, int, str, str, dict[str, str]], Response]
_prefix_renderers: dict[str, ErrorRenderer] = {}


def register_error_renderer(prefix: str, renderer: ErrorRenderer) -> None:
    """Let a sub-application (e.g. `/cds-services`) render its own error bodies."""
    _prefix_renderers[prefix] = renderer


def request_id_of(request: Request) -> str:
    return str(request.scope.get("request_id", "-"))


def wants_html(request: Request) -> bool:
    """Browser pages get HTML errors; the API, health and machine clients get JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/health", "/cds-services", "/openapi.json")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def _plain(value: Any) -> Any:
    """Make an echoed input value JSON-safe and short."""
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple | dict):
        try:
            text = json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
        else:
            if len(text) <= MAX_VALUE_CHARS:
                return json.loads(text)  # plain JSON data, decimals included
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def envelope(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: Iterable[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error response for this request: JSON envelope, HTML page, or a prefix's own."""
    hdrs = dict(headers or {})
    path = request.url.path
    for prefix, renderer in _prefix_renderers.items():
        if path.startswith(prefix):
            return renderer(request, status, code, message, hdrs)
    if wants_html(request):
        return html_error_page(request, status, message, hdrs)
    body = ErrorEnvelope(
        error=ErrorBody(
            status=status,
            code=code,
            message=message,
            fields=[
                FieldProblem(field=f.field, value=_plain(f.value), expected=f.expected)
                for f in fields
            ],
        ),
        request_id=request_id_of(request),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=hdrs)


# The pages package may set this to a function that renders a richer page
# (`templates/error.html`). It must not raise; if it does we fall back to the minimal page.
HtmlErrorPage = Callable[[Request, int, str, str], Response]
html_error_renderer: list[HtmlErrorPage] = []


def html_error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    title = _title(status)
    for render in html_error_renderer:
        try:
            response = render(request, status, title, message)
        except Exception:  # a broken error template must not hide the original error
            log.exception("error page template failed; using the minimal page")
            break
        response.headers.update(dict(headers or {}))
        return response
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{status} {html.escape(title)} · allguide</title></head><body>"
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        f"<p><small>Reference: {html.escape(request_id_of(request))}</small></p>"
        '<p><a href="/">Back to allguide</a></p></main></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers=dict(headers or {}))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- mapping exceptions -----------------------------------------------------------------------


def validation_fields(errors: Sequence[Any]) -> list[FieldProblem]:
    """pydantic/FastAPI error dicts → field problems, dropping the `body`/`query` prefix."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        field = ".".join(loc) or "body"
        value = None if err.get("type") == "missing" else err.get("input")
        out.append(FieldProblem(field=field, value=value, expected=_expected(err)))
    return out


def _expected(err: Mapping[str, Any]) -> str:
    etype = err.get("type", "")
    if etype == "missing":
        return "this field is required"
    if etype == "json_invalid":
        return "valid JSON: " + str((err.get("ctx") or {}).get("error", "syntax error"))
    msg = str(err.get("msg", "invalid value"))
    return msg[0].lower() + msg[1:] if msg else "a valid value"


def patient_fields(exc: PatientInputError, prefix: str = "patient") -> list[FieldProblem]:
    """Problems of a core `InputError` (patient or orders), as fields under `prefix`."""
    out = []
    for p in exc.problems:
        # The core marks absent values with private sentinels: report them as null.
        missing = type(p.value) is object or type(p.value).__name__ == "_Missing"
        value = None if missing else p.value
        if p.field in ("file", "patient", "order set", ""):
            field = prefix
        elif p.field.startswith("["):
            field = f"{prefix}{p.field}"
        else:
            field = f"{prefix}.{p.field}"
        out.append(FieldProblem(field=field, value=value, expected=p.message))
    return out


def install(app: FastAPI) -> None:
    """Register the handlers; the 500 path lives in `middleware.RequestContext`."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return envelope(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else _title(status)
        if status == 404 and message == "Not Found":
            message = f"no such resource: {request.url.path}"
        elif status == 405:
            message = f"method {request.method} is not allowed here"
        return envelope(request, status, code_for(status), message, (), exc.headers)

    async def request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = validation_fields(exc.errors())
        log.info("rejected input: %s", ", ".join(f.field for f in fields))  # names, no values
        return envelope(request, 422, "invalid_input", _summary(len(fields)), fields)

    async def patient_input(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PatientInputError)
        fields = patient_fields(exc)
        return envelope(request, 422, "invalid_input", _summary(len(fields)), fields)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(PatientInputError, patient_input)


def _summary(n: int) -> str:
    return f"the request has {n} problem{'s' if n != 1 else ''}; see `fields`"


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the envelope for these statuses."""
    return {s: {"model": ErrorEnvelope, "description": _title(s)} for s in statuses}

"""Reading JSON request bodies exactly: numbers become `Decimal`, as in the CLI.

FastAPI would parse `70.2` into a binary float; clinical inputs (weights, counts, doses)
must keep the digits the user sent, and the input digest of a plan must not depend on
whether it came from a file or the API.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from allguide.web.errors import ApiError, FieldProblem, InvalidInput, validation_fields


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


def parse_json(raw: bytes) -> Any:
    """JSON text → Python data with Decimal numbers; 422 naming the error position."""
    if not raw.strip():
        raise InvalidInput(
            "the request body is empty",
            fields=[FieldProblem(field="body", value=None, expected="a JSON object")],
        )
    try:
        return json.loads(raw, parse_float=Decimal)
    except UnicodeDecodeError:
        problem = "text encoded as UTF-8"
    except json.JSONDecodeError as exc:
        problem = f"valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        problem = "JSON nested less deeply"
    raise InvalidInput(
        "the request body is not valid JSON",
        fields=[FieldProblem(field="body", value=None, expected=problem)],
    )


async def json_body(request: Request) -> Any:
    """Dependency: the request's JSON body (Content-Type must be application/json)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got '{ctype or 'none'}'"
        )
    return parse_json(await request.body())


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any) -> M:
    """Validate parsed JSON against a request model; 422 naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = validation_fields(exc.errors())
        raise InvalidInput(
            f"the request has {len(fields)} problem{'s' if len(fields) != 1 else ''}; see `fields`",
            fields=fields,
        ) from None


def body_doc(schema: str, *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that reads its JSON body itself."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }

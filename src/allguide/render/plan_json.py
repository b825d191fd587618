"""Plan → JSON. Deterministic: field order is the model's, no timestamps.

Decimals become JSON numbers; every value in a plan is short enough that Python's
shortest float repr writes it back exactly (70.2 stays 70.2).

The text is exactly `json.dumps(plan.model_dump(), indent=2, ensure_ascii=False)` with
`_default` for decimals and dates (`_reference_json`). On Python < 3.13 `json.dumps` with an
indent runs the pure-Python encoder, which made rendering twice as slow as building the
plan; `_Writer` walks the models directly and writes the same bytes. Anything it does not
know (a type the plan models never hold) falls back to the reference path.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from allguide.planning.plan import Plan

_encode_str = json.encoder.encode_basestring  # the C implementation when available


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _reference_json(plan: Plan) -> str:
    """The definition of the output; `plan_to_json` must match it byte for byte."""
    data = plan.model_dump(mode="python")
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _float_text(value: float) -> str:
    """As `json.dumps` writes a float (allow_nan=True)."""
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


class _Unexpected(Exception):
    """A value the fast writer does not handle: use the reference path."""


# Model class → (field name, encoded key) in declaration order (the order `model_dump` uses).
_FIELDS: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}


def _fields(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple((n, _encode_str(n) + ": ") for n in cls.model_fields)
    return fields


def _scalar(v: Any) -> str | None:
    """JSON text of a leaf value, or None for a container (or an unknown type)."""
    kind = type(v)
    if kind is str:
        return _encode_str(v)
    if v is None:
        return "null"
    if kind is bool:
        return "true" if v else "false"
    if kind is int:
        return int.__repr__(v)
    if kind is Decimal:
        # same rule as `_default`: integral decimals are ints, the rest floats
        if v != v.to_integral_value():
            return _float_text(float(v))
        return int.__repr__(int(v))
    if kind is float:
        return _float_text(v)
    if kind is dt.date:
        return _encode_str(v.isoformat())
    return None


class _Writer:
    """Appends the text of one value to `parts`; `indent` is the current line's indent.

    Strings (most of a plan) are handled inline in the loops: one call per container,
    not per value."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def value(self, v: Any, indent: str) -> None:
        text = _scalar(v)
        if text is not None:
            self.parts.append(text)
        elif type(v) is list:
            self.sequence(v, indent)
        elif isinstance(v, BaseModel):
            self.mapping(_fields(type(v)), v.__dict__, indent)
        elif type(v) is dict:
            for key in v:
                if type(key) is not str:
                    raise _Unexpected("non-string key")
            self.mapping(tuple((k, _encode_str(k) + ": ") for k in v), v, indent)
        else:
            raise _Unexpected(type(v).__name__)

    def sequence(self, items: list[Any], indent: str) -> None:
        if not items:
            self.parts.append("[]")
            return
        append = self.parts.append
        inner = indent + "  "
        sep = "[\n" + inner
        for item in items:
            if type(item) is str:
                append(sep + _encode_str(item))
            else:
                append(sep)
                self.value(item, inner)
            sep = ",\n" + inner
        append("\n" + indent + "]")

    def mapping(
        self, fields: tuple[tuple[str, str], ...], values: dict[str, Any], indent: str
    ) -> None:
        """`fields`: (key, its encoded text + ": ") in output order; values by key."""
        if not fields:
            self.parts.append("{}")
            return
        append = self.parts.append
        inner = indent + "  "
        sep = "{\n" + inner
        for key, key_text in fields:
            item = values[key]
            text = _encode_str(item) if type(item) is str else _scalar(item)
            if text is not None:
                append(sep + key_text + text)
            else:
                append(sep + key_text)
                self.value(item, inner)
            sep = ",\n" + inner
        append("\n" + indent + "}")


def plan_to_json(plan: Plan) -> str:
    writer = _Writer()
    try:
        writer.value(plan, "")
    except _Unexpected:
        return _reference_json(plan)
    writer.parts.append("\n")
    return "".join(writer.parts)

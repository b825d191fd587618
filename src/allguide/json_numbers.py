"""Decimals as JSON numbers, at the output boundary only.

The engine computes in `Decimal` and its models keep `Decimal`; pydantic would write
them as JSON strings. `JsonNumber` writes them as numbers instead: integral values as
integers, the rest as the shortest float that reads back to the same decimal (every value
in a plan, such as a dose, a BSA or an age, is short enough for that to be exact:
`tests/planning/test_output_models.py`). No arithmetic is ever done on the float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def json_number(value: Decimal) -> int | float:
    return float(value) if value != value.to_integral_value() else int(value)


JsonNumber = Annotated[Decimal, PlainSerializer(json_number, when_used="json")]

"""Three-valued tests against cited thresholds, recording why.

A test on a missing value is *unknown* (None), never False: the trace records which
field is needed and why, so the plan can say what data it still needs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from allguide.knowledge.pack import ContentPack
from allguide.planning.plan import RiskEntry, RiskScheme, RiskStatus

Tri = bool | None

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
    "<=": operator.le,
}
_NEGATION = {">=": "<", ">": "≤", "<": "≥", "<=": ">"}
_SHOW = {">=": "≥", ">": ">", "<": "<", "<=": "≤"}


def fmt(value: Decimal | int | float) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def tri_all(values: Iterable[Tri]) -> Tri:
    """Kleene AND: False wins, then unknown, then True."""
    vals = list(values)
    if any(v is False for v in vals):
        return False
    if any(v is None for v in vals):
        return None
    return True


def tri_any(values: Iterable[Tri]) -> Tri:
    """Kleene OR: True wins, then unknown, then False."""
    vals = list(values)
    if any(v is True for v in vals):
        return True
    if any(v is None for v in vals):
        return None
    return False


class Trace:
    """Collects the 'because' lines, needed fields and citations of one decision."""

    def __init__(self, pack: ContentPack) -> None:
        self.pack = pack
        self.because: list[str] = []
        self.needs: dict[str, str] = {}
        self.citations: list[str] = []

    def cite(self, refs: Iterable[str]) -> None:
        for r in refs:
            if r not in self.citations:
                self.citations.append(r)

    def cite_statement(self, statement_id: str) -> None:
        """Cite a statement's references (a missing statement is caught by content check)."""
        stmt = self.pack.statements.get(statement_id)
        if stmt is not None:
            self.cite(stmt.citations)

    def entry(self, scheme: RiskScheme, group: str, status: RiskStatus) -> RiskEntry:
        """The risk entry this trace supports; needs are listed unless fully determined."""
        return RiskEntry(
            scheme=scheme,
            group=group,
            status=status,
            because=self.because,
            needs=sorted(self.needs) if status != "determined" else [],
            citations=self.citations,
        )

    def fact(self, text: str) -> None:
        if text not in self.because:
            self.because.append(text)

    def need(self, field: str, why: str) -> None:
        self.needs.setdefault(field, why)

    def threshold(
        self, threshold_id: str, field: str, value: Decimal | int | None, why: str
    ) -> Tri:
        """Compare a patient value with a content threshold; None when the value is missing."""
        t = self.pack.thresholds[threshold_id]
        self.cite(t.citations)
        if value is None:
            self.need(field, why)
            self.fact(f"{field} unknown")
            return None
        met = _OPS[t.comparison](Decimal(value), t.value)
        sign = _SHOW[t.comparison] if met else _NEGATION[t.comparison]
        self.fact(f"{field} {fmt(value)} {sign} {fmt(t.value)} {t.unit}")
        return met

    def flag(self, field: str, value: bool | None, why: str, label: str | None = None) -> Tri:
        """A yes/no patient field: records it, or the need for it."""
        name = label or field
        if value is None:
            self.need(field, why)
            self.fact(f"{name} unknown")
            return None
        self.fact(f"{name}: {'yes' if value else 'no'}")
        return value

"""Turn content items into cited points, references, glossary and review status.

Only content text is used: a point's text is an item's text for the audience, unchanged;
a bottom line is the opening sentence(s) of such a text. Citations are the item's own,
numbered in order of first use.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache

from allguide.ask.models import (
    AnswerReference,
    Audience,
    GlossaryItem,
    Point,
    ReviewInfo,
    Source,
    SourceKind,
)
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import (
    GlossaryEntry,
    Regimen,
    Review,
    ReviewStatus,
    Statement,
)
from allguide.planning.engine import format_reference, reference_url

Item = Statement | Regimen | GlossaryEntry

# Weakest first: the review status of an answer is that of its weakest item.
_STATUS_ORDER = (
    ReviewStatus.retired,
    ReviewStatus.draft,
    ReviewStatus.submitted,
    ReviewStatus.under_review,
    ReviewStatus.approved,
)
APPROVED = "approved"
PENDING = "pending review"
NOT_APPLICABLE = "not applicable"

# Sentence ends: ., ! or ? then space and an upper-case letter, digit or bracket; not after
# common abbreviations ("vs.", "e.g.", "et al.", "Dr.").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_ABBREVIATIONS = ("vs.", "e.g.", "i.e.", "al.", "approx.", "Dr.", "cf.", "No.", "Fig.", "etc.")
# A bottom line is at least this long (characters) when the text allows: one very short
# opening sentence ("Two steroids are used.") says too little on its own.
BOTTOM_LINE_MIN_CHARS = 90


def sentences(text: str) -> list[str]:
    parts = _SENTENCE_END.split(text.strip())
    merged: list[str] = []
    for part in parts:
        if merged and merged[-1].endswith(_ABBREVIATIONS):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [p for p in merged if p]


def opening(text: str, min_chars: int = BOTTOM_LINE_MIN_CHARS) -> str:
    """The first sentence(s) of a text, at least `min_chars` long when possible (max two)."""
    parts = sentences(text)
    if not parts:
        return text.strip()
    out = parts[0]
    if len(out) < min_chars and len(parts) > 1:
        out = f"{out} {parts[1]}"
    return out


def item_text(item: Item, audience: Audience) -> str:
    if isinstance(item, Statement):
        return item.clinician_text if audience == "clinician" else item.plain_text
    if isinstance(item, Regimen):
        return item.summary if audience == "clinician" else item.plain_text
    return item.definition


def item_title(item: Item) -> str:
    if isinstance(item, Statement):
        return item.title
    if isinstance(item, GlossaryEntry):
        return item.term
    return item.name


def kind_of(item: Item) -> SourceKind:
    if isinstance(item, Statement):
        return "statement"
    if isinstance(item, Regimen):
        return "regimen"
    return "glossary"


def lookup(pack: ContentPack, kind: SourceKind, item_id: str) -> Item:
    if kind == "statement":
        return pack.statements[item_id]
    if kind == "regimen":
        return pack.regimens[item_id]
    return pack.glossary[item_id]


def evidence_text(stmt: Statement) -> str | None:
    ev = stmt.evidence
    if ev is None or not (ev.level or ev.strength):
        return None
    grade = ", ".join(x for x in (ev.level, ev.strength) if x)
    return f"{grade}; {ev.grading_system}" if ev.grading_system else grade


@dataclass
class Composer:
    """Collects the items an answer or article uses, in order, and numbers citations."""

    pack: ContentPack
    audience: Audience
    numbers: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)

    def cite(self, ref_ids: list[str]) -> list[int]:
        out = []
        for ref in ref_ids:
            if ref not in self.pack.references:
                continue  # `content check` reports dangling citations
            n = self.numbers.setdefault(ref, len(self.numbers) + 1)
            if n not in out:
                out.append(n)
        return out

    def use(self, item: Item) -> None:
        self.reviews[f"{kind_of(item)}:{item.id}"] = item.review

    def point(self, item: Item) -> Point:
        self.use(item)
        kind = kind_of(item)
        return Point(
            text=item_text(item, self.audience),
            citations=self.cite(list(item.citations)),
            statement_ids=[item.id],
            source=Source(kind=kind, id=item.id),
            title=item_title(item),
            evidence=evidence_text(item)
            if isinstance(item, Statement) and self.audience == "clinician"
            else None,
        )

    def alternative_points(self, stmt: Statement) -> list[Point]:
        """Where sources disagree: each alternative view, with its own citations."""
        self.use(stmt)
        return [
            Point(
                text=alt.text,
                citations=self.cite(list(alt.citations)),
                statement_ids=[stmt.id],
                source=Source(kind="statement", id=stmt.id),
                title=stmt.title,
            )
            for alt in stmt.alternatives
        ]

    def bottom_line(self, point: Point) -> tuple[str, list[int]]:
        return opening(point.text), list(point.citations)

    def references(self) -> list[AnswerReference]:
        out = []
        for ref_id, n in sorted(self.numbers.items(), key=lambda kv: kv[1]):
            ref = self.pack.references[ref_id]
            out.append(
                AnswerReference(
                    n=n, id=ref_id, citation=format_reference(ref), url=reference_url(ref)
                )
            )
        return out

    def review(self) -> ReviewInfo:
        return review_of(list(self.reviews.values()))

    def glossary(
        self, texts: list[str], exclude: set[str], always: tuple[str, ...] = ()
    ) -> list[GlossaryItem]:
        """Glossary entries for terms that appear in the texts, in order of first appearance."""
        joined = "\n".join(texts)
        found: list[tuple[int, str]] = []
        for gid, pattern in glossary_patterns(self.pack.version, self.pack).items():
            if gid in exclude:
                continue
            m = pattern.search(joined)
            if m:
                found.append((m.start(), gid))
            elif gid in always:
                found.append((len(joined) + always.index(gid), gid))
        out = []
        for _, gid in sorted(found):
            entry = self.pack.glossary[gid]
            self.use(entry)
            out.append(GlossaryItem(id=gid, term=entry.term, definition=entry.definition))
        return out


def review_of(reviews: list[Review]) -> ReviewInfo:
    if not reviews:
        return ReviewInfo(status=NOT_APPLICABLE, last_updated=None)
    counts: dict[str, int] = {}
    for r in reviews:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    weakest = min((r.status for r in reviews), key=_STATUS_ORDER.index)
    last: dt.date = max(r.last_updated for r in reviews)
    return ReviewInfo(
        status=APPROVED if weakest == ReviewStatus.approved else PENDING,
        last_updated=last,
        weakest=weakest.value,
        counts=dict(sorted(counts.items())),
    )


_GLOSSARY_CACHE: dict[str, dict[str, re.Pattern[str]]] = {}


def glossary_patterns(version: str, pack: ContentPack) -> dict[str, re.Pattern[str]]:
    """One regex per glossary entry: its term and aliases as whole words.

    Short upper-case aliases ("ALL", "IT", "CR") match only in upper case.
    """
    cached = _GLOSSARY_CACHE.get(version)
    if cached is not None:
        return cached
    out: dict[str, re.Pattern[str]] = {}
    for entry in pack.glossary.values():
        names = [entry.term, *entry.aliases]
        loose = [n for n in names if not _case_sensitive(n)]
        strict = [n for n in names if _case_sensitive(n)]
        parts = []
        if loose:
            parts.append(
                "(?i:" + "|".join(_word(n) for n in sorted(loose, key=len, reverse=True)) + ")"
            )
        if strict:
            parts.append("|".join(_word(n) for n in strict))
        out[entry.id] = re.compile("|".join(parts))
    _GLOSSARY_CACHE[version] = out
    return out


def _case_sensitive(name: str) -> bool:
    return name.isupper() and len(name) <= 5


@cache
def _word(name: str) -> str:
    return r"(?<![\w-])" + re.escape(name) + r"(?:s|es)?(?![\w-])"

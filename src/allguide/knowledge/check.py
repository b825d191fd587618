"""`content check`: every problem in the content pack, found in one pass.

Problems are grouped by file and name the item id and field, so an editor can fix them
all at once instead of one per run.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from allguide.knowledge.loader import FileProblem, ParsedFile
from allguide.knowledge.pack import ContentPack, assemble
from allguide.knowledge.schemas import (
    AgeBand,
    Alternative,
    ArticleOutline,
    DoseBasis,
    Regimen,
    Review,
    ReviewStatus,
)

MAX_READING_GRADE = 8.0


@dataclass(frozen=True)
class Problem:
    path: str
    item_id: str | None
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        loc = FileProblem(self.path, self.item_id, self.field, self.message)
        return f"{self.path}: {loc}"


@dataclass
class CheckReport:
    version: str
    pack: ContentPack
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def by_file(self) -> dict[str, list[Problem]]:
        grouped: dict[str, list[Problem]] = defaultdict(list)
        for p in self.problems:
            grouped[p.path].append(p)
        return dict(sorted(grouped.items()))


@dataclass(frozen=True)
class RequiredIds:
    """Ids the engine depends on; a missing one is a content error."""

    statements: frozenset[str] = frozenset()
    regimens: frozenset[str] = frozenset()
    thresholds: frozenset[str] = frozenset()
    drugs: frozenset[str] = frozenset()


@lru_cache(maxsize=4096)
def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level, measured by the textstat library."""
    import textstat  # imported lazily: only `content check` needs it

    return float(textstat.flesch_kincaid_grade(text))


def check_pack(
    parsed: list[ParsedFile],
    version: str,
    *,
    required: RequiredIds | None = None,
    today: dt.date | None = None,
    readability: bool = True,
) -> CheckReport:
    """Validate parsed files and cross-references; the report carries the assembled pack.

    Pure: `today` is passed in.
    """
    pack, duplicates = assemble(parsed, version)
    report = CheckReport(version, pack)
    for pf in parsed:
        report.problems.extend(Problem(p.path, p.item_id, p.field, p.message) for p in pf.problems)
    for path, msg in duplicates:
        item_id, _, message = msg.partition(": ")
        report.problems.append(Problem(path, item_id, "id", message))

    checker = _CrossChecker(pack, today, readability)
    report.problems.extend(checker.run())
    if required is not None:
        report.problems.extend(_missing_required(pack, required))
    report.counts = {
        "references": len(pack.references),
        "statements": len(pack.statements),
        "drugs": len(pack.drugs),
        "regimens": len(pack.regimens),
        "glossary": len(pack.glossary),
        "thresholds": len(pack.thresholds),
        "genetics": len(pack.genetics),
        "articles": len(pack.articles),
    }
    return report


def _missing_required(pack: ContentPack, required: RequiredIds) -> Iterator[Problem]:
    for kind, wanted, have in (
        ("statement", required.statements, pack.statements),
        ("regimen", required.regimens, pack.regimens),
        ("threshold", required.thresholds, pack.thresholds),
        ("drug", required.drugs, pack.drugs),
    ):
        for item_id in sorted(wanted - have.keys()):
            yield Problem(
                "(engine)",
                item_id,
                None,
                f"the engine uses {kind} '{item_id}' but no content file defines it",
            )


class _CrossChecker:
    def __init__(self, pack: ContentPack, today: dt.date | None, readability: bool) -> None:
        self.pack = pack
        self.today = today
        self.readability = readability

    def origin(self, kind: str, item_id: str) -> str:
        return self.pack.origins.get(kind + item_id, "?")

    def run(self) -> Iterator[Problem]:
        p = self.pack
        for s in p.statements.values():
            path = self.origin("statements", s.id)
            yield from self.citations(path, s.id, "citations", s.citations)
            yield from self.alternatives(path, s.id, s.alternatives)
            yield from self.review(path, s.id, s.review)
            yield from self.plain(path, s.id, "plain_text", s.plain_text)
        for d in p.drugs.values():
            path = self.origin("drugs", d.id)
            yield from self.citations(path, d.id, "citations", d.citations)
            for i, nr in enumerate(d.never_routes):
                yield from self.citations(path, d.id, f"never_routes.{i}.citations", nr.citations)
                if nr.route in d.routes:
                    yield Problem(
                        path,
                        d.id,
                        f"never_routes.{i}.route",
                        f"route '{nr.route}' is listed both as allowed and as never",
                    )
            for i, lim in enumerate(d.limits):
                yield from self.citations(path, d.id, f"limits.{i}.citations", lim.citations)
            if d.doxorubicin_equivalence is not None:
                yield from self.citations(
                    path,
                    d.id,
                    "doxorubicin_equivalence.citations",
                    d.doxorubicin_equivalence.citations,
                )
            yield from self.review(path, d.id, d.review)
            yield from self.plain(path, d.id, "plain_text", d.plain_text)
        for r in p.regimens.values():
            yield from self.regimen(r)
        for g in p.glossary.values():
            path = self.origin("glossary", g.id)
            yield from self.citations(path, g.id, "citations", g.citations)
            yield from self.review(path, g.id, g.review)
            yield from self.plain(path, g.id, "definition", g.definition)
        for t in p.thresholds.values():
            path = self.origin("thresholds", t.id)
            yield from self.citations(path, t.id, "citations", t.citations)
            yield from self.alternatives(path, t.id, t.alternatives)
        for gt in p.genetics.values():
            path = self.origin("genetics", gt.id)
            yield from self.citations(path, gt.id, "citations", gt.citations)
            yield from self.plain(path, gt.id, "plain_text", gt.plain_text)
        for art in p.articles.values():
            yield from self.article(art)

    def article(self, art: ArticleOutline) -> Iterator[Problem]:
        """Every id an article outline lists must exist (no dangling ids)."""
        path = self.origin("articles", art.id)
        for audience in ("clinician", "patient"):
            version = getattr(art, audience)
            for i, sid in enumerate(version.bottom_line):
                if sid not in self.pack.statements:
                    yield Problem(
                        path, art.id, f"{audience}.bottom_line.{i}", f"unknown statement '{sid}'"
                    )
            for i, sec in enumerate(version.sections):
                where = f"{audience}.sections.{i}"
                for sid in sec.statements:
                    if sid not in self.pack.statements:
                        yield Problem(
                            path, art.id, f"{where}.statements", f"unknown statement '{sid}'"
                        )
                for rid in sec.regimens:
                    if rid not in self.pack.regimens:
                        yield Problem(path, art.id, f"{where}.regimens", f"unknown regimen '{rid}'")
            for gid in version.glossary:
                if gid not in self.pack.glossary:
                    yield Problem(
                        path, art.id, f"{audience}.glossary", f"unknown glossary entry '{gid}'"
                    )

    def citations(
        self, path: str, item_id: str, field_name: str, refs: Iterable[str]
    ) -> Iterator[Problem]:
        for ref in refs:
            if ref not in self.pack.references:
                yield Problem(
                    path, item_id, field_name, f"dangling citation '{ref}': no such reference"
                )

    def alternatives(
        self, path: str, item_id: str, alts: list[Alternative], prefix: str = ""
    ) -> Iterator[Problem]:
        for i, alt in enumerate(alts):
            yield from self.citations(
                path, item_id, f"{prefix}alternatives.{i}.citations", alt.citations
            )

    def review(self, path: str, item_id: str, review: Review) -> Iterator[Problem]:
        if review.status == ReviewStatus.approved:
            if not review.reviewed_by:
                yield Problem(path, item_id, "review.reviewed_by", "approved item has no reviewer")
            if not review.reviewed_on:
                yield Problem(
                    path, item_id, "review.reviewed_on", "approved item has no review date"
                )
            if review.reviewed_by and review.reviewed_by == review.authored_by:
                yield Problem(
                    path, item_id, "review.reviewed_by", "reviewer must not be the author"
                )
        due = review.next_review
        if self.today and due and due < self.today and review.status != ReviewStatus.retired:
            yield Problem(
                path, item_id, "review.next_review", f"review was due on {due}", "warning"
            )

    def plain(self, path: str, item_id: str, field_name: str, text: str) -> Iterator[Problem]:
        if not text.strip():
            yield Problem(path, item_id, field_name, "missing plain-language text")
            return
        if self.readability:
            grade = reading_grade(text)
            if grade > MAX_READING_GRADE:
                yield Problem(
                    path,
                    item_id,
                    field_name,
                    f"reading grade {grade:.1f} is above {MAX_READING_GRADE:g} "
                    "(Flesch-Kincaid): use shorter sentences and everyday words",
                )

    def regimen(self, r: Regimen) -> Iterator[Problem]:
        path = self.origin("regimens", r.id)
        yield from self.citations(path, r.id, "citations", r.citations)
        yield from self.alternatives(path, r.id, r.alternatives)
        yield from self.review(path, r.id, r.review)
        yield from self.plain(path, r.id, "plain_text", r.plain_text)
        for i, line in enumerate(r.drugs):
            where = f"drugs.{i}"
            drug = self.pack.drugs.get(line.drug)
            yield from self.citations(path, r.id, f"{where}.citations", line.citations)
            yield from self.alternatives(path, r.id, line.alternatives, f"{where}.")
            if drug is None:
                yield Problem(
                    path, r.id, f"{where}.drug", f"unknown drug '{line.drug}': not in drugs"
                )
            else:
                if any(nr.route == line.route for nr in drug.never_routes):
                    yield Problem(
                        path,
                        r.id,
                        f"{where}.route",
                        f"{line.drug} must never be given by route '{line.route}'",
                    )
                elif line.route not in drug.routes:
                    allowed = ", ".join(drug.routes)
                    yield Problem(
                        path,
                        r.id,
                        f"{where}.route",
                        f"route '{line.route}' is not allowed for {line.drug} (allowed: {allowed})",
                    )
            if any(d < 1 for d in line.days):
                yield Problem(path, r.id, f"{where}.days", "days are numbered from 1")
            if line.dose is None:
                continue
            dose = line.dose
            if not line.citations:
                yield Problem(
                    path,
                    r.id,
                    f"{where}.citations",
                    f"dose of {line.drug} has no source: cite where it comes from",
                )
            if dose.cap and dose.cap.unit != dose.unit:
                yield Problem(
                    path,
                    r.id,
                    f"{where}.dose.cap.unit",
                    f"cap unit '{dose.cap.unit}' differs from dose unit '{dose.unit}'",
                )
            if dose.basis == DoseBasis.age_banded and not dose.age_bands:
                yield Problem(
                    path, r.id, f"{where}.dose.age_bands", "basis 'age_banded' needs age_bands"
                )
            if dose.amount is None and not dose.age_bands:
                yield Problem(
                    path, r.id, f"{where}.dose.amount", "dose needs an amount or age_bands"
                )
            if dose.amount is not None and dose.age_bands:
                yield Problem(
                    path, r.id, f"{where}.dose", "give either amount or age_bands, not both"
                )
            yield from self.age_bands(path, r.id, where, dose.age_bands)
            if drug is not None:
                for lim in drug.limits:
                    cap = lim.max_single_dose
                    if cap.unit == dose.unit and (dose.cap is None or dose.cap.amount > cap.amount):
                        yield Problem(
                            path,
                            r.id,
                            f"{where}.dose.cap",
                            f"{line.drug} has a hard limit of {cap.amount} {cap.unit} "
                            "per dose: the regimen line must cap at or below it",
                        )

    def age_bands(self, path: str, rid: str, where: str, bands: list[AgeBand]) -> Iterator[Problem]:
        ordered = sorted(bands, key=lambda b: b.min_age_years)
        for a, b in itertools.pairwise(ordered):
            if a.max_age_years is None or a.max_age_years != b.min_age_years:
                yield Problem(
                    path,
                    rid,
                    f"{where}.dose.age_bands",
                    "age bands must be contiguous and not overlap (band ending "
                    f"{a.max_age_years} is followed by one starting {b.min_age_years})",
                )
        for band in ordered:
            if band.max_age_years is not None and band.max_age_years <= band.min_age_years:
                yield Problem(
                    path,
                    rid,
                    f"{where}.dose.age_bands",
                    f"age band {band.min_age_years}–{band.max_age_years}: upper bound "
                    "must exceed lower bound",
                )

"""Plain-text and Markdown rendering of answers and topic articles.

The layout follows the answer page: bottom line, sections of cited points, words to know
(patient audience), references, review status, follow-up questions, disclaimer. Citation
markers are the answer's own numbers ([1][2]); nothing is added to the content's text.
"""

from __future__ import annotations

import textwrap

from allguide.ask.models import (
    Answer,
    AnswerReference,
    Article,
    GlossaryItem,
    Point,
    ReviewInfo,
    Section,
)

WIDTH = 100
PLAN_ALERTS = "Alerts from this patient's plan"


def render_answer(answer: Answer, *, markdown: bool = False) -> str:
    r = _Renderer(markdown)
    r.title(answer.question)
    r.meta(_meta(answer.audience, answer.review, answer.facets.population))
    if not answer.in_scope:
        r.heading("Not answered")
        r.para(answer.bottom_line)
    else:
        if answer.patient_alerts:
            # The plan's alerts come before anything else: they are why the answer leads
            # with what it leads with.
            r.heading(PLAN_ALERTS)
            for alert in answer.patient_alerts:
                r.bullet(f"{alert.severity.upper()}: {alert.message}")
        r.heading("Bottom line")
        r.para(answer.bottom_line + _marks(answer.bottom_line_citations))
        _body(r, answer.sections, answer.glossary, answer.audience == "clinician")
        r.references(answer.references)
        r.review(answer.review)
    if answer.follow_ups:
        r.heading("Follow-up questions")
        for q in answer.follow_ups:
            r.bullet(q)
    r.heading("Disclaimer")
    r.para(answer.disclaimer)
    if answer.retrieval.corrected:
        fixes = ", ".join(f"{a} → {b}" for a, b in answer.retrieval.corrected.items())
        r.note(f"Read as: {fixes}")
    if answer.retrieval.note:
        r.note(answer.retrieval.note)
    return r.text()


def render_article(article: Article, *, markdown: bool = False) -> str:
    r = _Renderer(markdown)
    r.title(article.title)
    r.meta(_meta(article.audience, article.review, None))
    r.heading("Bottom line")
    r.para(article.bottom_line + _marks(article.bottom_line_citations))
    _body(r, article.sections, article.glossary, article.audience == "clinician")
    r.references(article.references)
    r.review(article.review)
    r.heading("Disclaimer")
    r.para(article.disclaimer)
    return r.text()


def _body(
    r: _Renderer, sections: list[Section], glossary: list[GlossaryItem], titles: bool
) -> None:
    for section in sections:
        r.heading(section.heading)
        for point in section.points:
            lead = point.title if titles and point.title else None
            r.bullet(_point_text(point, lead), bold_lead=lead)
    if glossary:
        r.heading("Words to know")
        for g in glossary:
            r.bullet(f"{g.term}: {g.definition}", bold_lead=g.term)


def _point_text(point: Point, lead: str | None) -> str:
    """The point's text with its citation marks; clinicians see the item's title first."""
    text = point.text + _marks(point.citations)
    if lead:
        text = f"{lead.rstrip('.')}. {text}"
    if point.evidence:
        text += f" (evidence: {point.evidence})"
    return text


def _marks(numbers: list[int]) -> str:
    return (" " + "".join(f"[{n}]" for n in numbers)) if numbers else ""


def _meta(audience: str, review: ReviewInfo, population: str | None) -> str:
    parts = [f"for {'clinicians' if audience == 'clinician' else 'patients and families'}"]
    if population:
        parts.append(f"about: {population.replace('_', ' ')}")
    if review.status != "not applicable":
        status = review.status.upper() if review.status != "approved" else "approved"
        parts.append(f"content {status}")
    if review.last_updated:
        parts.append(f"last updated {review.last_updated.isoformat()}")
    return " · ".join(parts)


class _Renderer:
    def __init__(self, markdown: bool) -> None:
        self.md = markdown
        self.lines: list[str] = []

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    def title(self, text: str) -> None:
        if self.md:
            self.lines += [f"# {text}", ""]
        else:
            self.lines += [*textwrap.wrap(text, WIDTH), "=" * min(len(text), WIDTH), ""]

    def meta(self, text: str) -> None:
        self.lines += [f"*{text}*" if self.md else text, ""]

    def heading(self, text: str) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")
        if self.md:
            self.lines += [f"## {text}", ""]
        else:
            self.lines.append(text.upper())

    def para(self, text: str) -> None:
        self.lines += [text] if self.md else textwrap.wrap(text, WIDTH)
        self.lines.append("")

    def bullet(self, text: str, bold_lead: str | None = None) -> None:
        if self.md:
            lead = bold_lead.rstrip(".") if bold_lead else None
            if lead and text.startswith(lead):
                text = f"**{lead}**{text[len(lead) :]}"
            self.lines.append(f"- {text}")
        else:
            self.lines += textwrap.wrap(
                text, WIDTH, initial_indent="  • ", subsequent_indent="    "
            )

    def note(self, text: str) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")
        self.lines.append(f"> {text}" if self.md else f"({text})")

    def references(self, refs: list[AnswerReference]) -> None:
        if not refs:
            return
        self.heading("References")
        for ref in refs:
            n, citation, url = ref.n, ref.citation, ref.url
            line = f"{citation} {url}" if url else citation
            if self.md:
                self.lines.append(f"{n}. {citation}" + (f" <{url}>" if url else ""))
            else:
                # URLs stay whole (a wrapped link cannot be followed).
                self.lines += textwrap.wrap(
                    line,
                    WIDTH,
                    initial_indent=f"  [{n}] ",
                    subsequent_indent="      ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )

    def review(self, review: ReviewInfo) -> None:
        self.heading("Review status")
        if review.status == "approved":
            text = "Approved by the medical advisory board"
        else:
            text = (
                f"Pending review: this content has not yet been approved by the medical advisory "
                f"board (weakest item: {review.weakest})"
            )
        if review.last_updated:
            text += f"; last updated {review.last_updated.isoformat()}"
        self.para(text + ".")

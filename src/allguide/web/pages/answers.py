"""Answer/article JSON (the ask package's public contract) → what the templates show.

Works from the JSON form (`model_dump(mode="json")`) so the pages depend only on the
documented contract, not on the ask package's Python classes. Glossary terms found in the
text are linked to their definition beside the answer (first use in each point).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from allguide.web.pages.views import RefView


@dataclass(frozen=True)
class Text:
    html: Markup
    citations: list[int]


@dataclass(frozen=True)
class Subsection:
    heading: str
    points: list[Text]


@dataclass(frozen=True)
class Section:
    heading: str
    points: list[Text]
    intro: Text | None = None
    subsections: list[Subsection] = field(default_factory=list)


@dataclass(frozen=True)
class Term:
    term: str
    definition: str
    anchor: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    text: str
    url: str


@dataclass
class AnswerView:
    question: str
    audience: str
    in_scope: bool
    message: str
    conversation_id: str
    bottom_line: Text | None
    sections: list[Section]
    references: list[RefView]
    glossary: list[Term]
    follow_ups: list[FollowUp]
    review_status: str
    last_updated: str | None
    disclaimer: str
    title: str = ""
    intro: Text | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "term"


class _Linker:
    """Links the first mention of each glossary term in each text to its definition."""

    def __init__(self, terms: Sequence[Term]) -> None:
        names: list[tuple[str, Term]] = []
        for t in terms:
            for name in (t.term, *t.aliases):
                if len(name) >= 3:
                    names.append((name, t))
        names.sort(key=lambda nt: -len(nt[0]))  # longest first: "lumbar puncture" before "lumbar"
        self.terms = {name.lower(): t for name, t in names}
        self.pattern = (
            re.compile(
                r"(?<![\w-])(" + "|".join(re.escape(n) for n, _ in names) + r")(?![\w-])",
                re.IGNORECASE,
            )
            if names
            else None
        )

    def __call__(self, text: str) -> Markup:
        if self.pattern is None:
            return Markup(escape(text))
        out: list[str] = []
        seen: set[str] = set()
        last = 0
        for match in self.pattern.finditer(text):
            term = self.terms.get(match.group(1).lower())
            if term is None or term.anchor in seen:
                continue
            seen.add(term.anchor)
            out.append(str(escape(text[last : match.start()])))
            out.append(
                f'<a class="term" href="#{escape(term.anchor)}" '
                f'title="{escape(term.definition)}">{escape(match.group(1))}</a>'
            )
            last = match.end()
        out.append(str(escape(text[last:])))
        return Markup("".join(out))


def _ints(values: Any) -> list[int]:
    out = []
    for v in values or ():
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def _text(value: Any, link: _Linker, *, titled: bool = False) -> Text | None:
    """A point, a bottom line or an intro: a string or {text, citations[, title]}."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return Text(link(value), [])
    if isinstance(value, Mapping):
        raw = value.get("text") or value.get("plain_text") or ""
        html = link(str(raw))
        title = value.get("title")
        if titled and title:
            html = Markup("<strong>{}.</strong> ").format(str(title).rstrip(".")) + html
        return Text(html, _ints(value.get("citations")))
    return Text(link(str(value)), [])


def _points(values: Iterable[Any], link: _Linker, *, titled: bool = False) -> list[Text]:
    return [t for t in (_text(v, link, titled=titled) for v in values or ()) if t is not None]


def _refs(values: Iterable[Mapping[str, Any]]) -> list[RefView]:
    refs = []
    for i, r in enumerate(values or (), start=1):
        refs.append(
            RefView(
                n=int(r.get("n", i)),
                id=str(r.get("id", "")),
                citation=str(r.get("citation", "")),
                url=r.get("url") or None,
            )
        )
    return refs


def _terms(values: Iterable[Mapping[str, Any]]) -> list[Term]:
    terms = []
    for g in values or ():
        term = str(g.get("term", "")).strip()
        if not term:
            continue
        terms.append(
            Term(
                term=term,
                definition=str(g.get("definition", "")),
                anchor="term-" + _slug(term),
                aliases=tuple(str(a) for a in g.get("aliases", ()) or ()),
            )
        )
    return terms


def _sections(values: Iterable[Mapping[str, Any]], link: _Linker, *, titled: bool) -> list[Section]:
    sections = []
    for s in values or ():
        subsections = [
            Subsection(
                str(sub.get("heading", "")), _points(sub.get("points", ()), link, titled=titled)
            )
            for sub in s.get("subsections", ()) or ()
        ]
        sections.append(
            Section(
                heading=str(s.get("heading", "")),
                points=_points(s.get("points", ()), link, titled=titled),
                intro=_text(s.get("intro"), link),
                subsections=subsections,
            )
        )
    return sections


def follow_up_url(text: str, audience_choice: str, conversation_id: str) -> str:
    params = {"q": text, "audience": audience_choice}
    if conversation_id:
        params["conversation"] = conversation_id
    return "/?" + urlencode(params)


def answer_view(data: Mapping[str, Any], audience_choice: str) -> AnswerView:
    """Normalise an Answer (or Article) JSON dict for the templates."""
    terms = _terms(data.get("glossary", ()))
    link = _Linker(terms)
    review = data.get("review") or {}
    conversation_id = str(data.get("conversation_id") or "")
    follow_ups = []
    for f in data.get("follow_ups", ()) or ():
        text = f if isinstance(f, str) else str(f.get("question") or f.get("text") or "")
        if text:
            follow_ups.append(FollowUp(text, follow_up_url(text, audience_choice, conversation_id)))
    status = str(review.get("status") or "draft")
    audience = str(data.get("audience") or "clinician")
    bottom = _text(data.get("bottom_line"), link)
    if bottom is not None and data.get("bottom_line_citations"):
        bottom = Text(bottom.html, _ints(data.get("bottom_line_citations")))
    message = str(data.get("message") or "")
    if not data.get("in_scope", True) and not message:
        message = str(
            data.get("bottom_line")
            or "allguide only answers questions about acute lymphoblastic leukemia (ALL) "
            "from its reviewed content, and it found nothing that answers this one."
        )
    return AnswerView(
        question=str(data.get("question") or data.get("title") or ""),
        audience=audience,
        in_scope=bool(data.get("in_scope", True)),
        message=message,
        conversation_id=conversation_id,
        bottom_line=bottom,
        sections=_sections(data.get("sections", ()), link, titled=audience == "clinician"),
        references=_refs(data.get("references", ())),
        glossary=terms,
        follow_ups=follow_ups,
        review_status="draft" if status in ("pending review", "pending") else status,
        last_updated=str(review["last_updated"]) if review.get("last_updated") else None,
        disclaimer=str(data.get("disclaimer") or ""),
        title=str(data.get("title") or data.get("question") or ""),
        intro=_text(data.get("intro") or data.get("summary"), link),
    )

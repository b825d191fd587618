"""Topic articles (`allguide article initial-treatment`): an outline from content rendered
for one audience, with a bottom line, numbered references, review status and disclaimer.

The outline (content/articles/*.yaml) lists item ids per section; the text is the items'
text for the audience, unchanged, exactly as in answers.
"""

from __future__ import annotations

from allguide.ask.compose import Composer, opening
from allguide.ask.engine import AskInputError
from allguide.ask.followups import PATIENT_DISCLAIMER
from allguide.ask.models import AUDIENCES, Article, Audience, Section
from allguide.knowledge.pack import ContentPack
from allguide.planning.engine import DISCLAIMER

# Articles the product promises; `content check` fails when an outline is missing.
ARTICLE_TOPICS: tuple[str, ...] = ("initial-treatment",)


def build_article(topic_id: str, pack: ContentPack, audience: Audience = "clinician") -> Article:
    """The article for `topic_id` (raises `AskInputError` for an unknown topic or audience)."""
    if audience not in AUDIENCES:
        raise AskInputError(f"audience '{audience}' is not one of: {', '.join(AUDIENCES)}")
    outline = pack.articles.get(topic_id)
    if outline is None:
        known = ", ".join(sorted(pack.articles)) or "none"
        raise AskInputError(f"no article '{topic_id}' in the content pack (articles: {known})")
    version = outline.clinician if audience == "clinician" else outline.patient
    composer = Composer(pack, audience)

    bottom_texts: list[str] = []
    bottom_cites: list[int] = []
    for sid in version.bottom_line:
        stmt = pack.statements.get(sid)
        if stmt is None:
            continue  # reported by `content check`
        point = composer.point(stmt)
        bottom_texts.append(opening(point.text))
        bottom_cites.extend(n for n in point.citations if n not in bottom_cites)

    sections = []
    for sec in version.sections:
        points = [
            composer.point(pack.statements[s]) for s in sec.statements if s in pack.statements
        ]
        points += [composer.point(pack.regimens[r]) for r in sec.regimens if r in pack.regimens]
        if points:
            sections.append(Section(heading=sec.heading, points=points))

    glossary = []
    if audience == "patient":
        texts = [*bottom_texts, *(p.text for s in sections for p in s.points)]
        glossary = composer.glossary(texts, exclude=set(), always=tuple(version.glossary))
    return Article(
        topic_id=topic_id,
        audience=audience,
        title=version.title,
        bottom_line=" ".join(bottom_texts),
        bottom_line_citations=bottom_cites,
        sections=sections,
        references=composer.references(),
        glossary=glossary,
        review=composer.review(),
        disclaimer=DISCLAIMER if audience == "clinician" else PATIENT_DISCLAIMER,
        content_version=pack.version,
    )

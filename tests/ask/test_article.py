"""Topic articles: the full initial-treatment article for each audience, from content only."""

from __future__ import annotations

import pytest

from allguide.ask import ARTICLE_TOPICS, AskInputError, build_article
from allguide.ask.compose import item_text, lookup
from allguide.knowledge.check import check_pack
from allguide.knowledge.loader import ParsedFile
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentPack, parse_pack
from allguide.knowledge.schemas import ArticleOutline

# The sections of the clinician answer page the article must cover (issue #3).
CLINICIAN_SECTIONS = (
    "Induction therapy — children",
    "Induction therapy — adults",
    "Induction therapy — older or unfit adults",
    "Corticosteroid selection",
    "Asparaginase formulations",
    "CNS prophylaxis",
    "Antimicrobial prophylaxis and tumour lysis",
    "Consolidation",
    "Maintenance",
    "Risk-adapted treatment",
    "Philadelphia chromosome-positive ALL",
    "Allogeneic stem cell transplantation",
    "Critical pitfalls to avoid",
)


def test_every_promised_topic_is_in_the_content(pack: ContentPack) -> None:
    assert set(ARTICLE_TOPICS) <= set(pack.articles)


def test_clinician_article_has_every_section_of_the_answer_page(pack: ContentPack) -> None:
    article = build_article("initial-treatment", pack, "clinician")
    headings = [s.heading for s in article.sections]
    for wanted in CLINICIAN_SECTIONS:
        assert wanted in headings
    assert article.bottom_line.startswith("First-line therapy for ALL")
    assert article.glossary == []
    assert article.review.status == "pending review"
    assert "not a medical order" in article.disclaimer


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_article_text_is_content_text_with_citations(pack: ContentPack, audience: str) -> None:
    article = build_article("initial-treatment", pack, audience)  # type: ignore[arg-type]
    outline = getattr(pack.articles["initial-treatment"], audience)
    listed = [sid for sec in outline.sections for sid in sec.statements]
    shown = [p.source.id for s in article.sections for p in s.points]
    assert shown == listed  # in the outline's order, nothing added or dropped
    refs = {r.n: r.id for r in article.references}
    for section in article.sections:
        for point in section.points:
            item = lookup(pack, point.source.kind, point.source.id)
            assert point.text == item_text(item, article.audience)
            assert point.citations
            assert {refs[n] for n in point.citations} == set(item.citations)
    assert sorted(refs) == list(range(1, len(refs) + 1))


def test_patient_article_follows_the_patient_page_with_its_glossary(pack: ContentPack) -> None:
    article = build_article("initial-treatment", pack, "patient")
    headings = [s.heading for s in article.sections]
    assert headings[0] == "What induction is"
    assert {"Targeted therapy", "Protecting the brain and spinal cord", "Supportive care"} <= set(
        headings
    )
    terms = {g.term for g in article.glossary}
    # The three terms the patient page defines, and more.
    assert {"Leukapheresis", "Lumbar puncture", "Ommaya reservoir"} <= terms
    assert len(article.glossary) >= 15
    stmt = pack.statements["stmt.overview.induction_goal"]
    assert stmt.plain_text.startswith(article.bottom_line)


def test_unknown_topic_and_audience_are_input_errors(pack: ContentPack) -> None:
    with pytest.raises(AskInputError, match="initial-treatment"):
        build_article("relapse", pack, "clinician")
    with pytest.raises(AskInputError, match="audience"):
        build_article("initial-treatment", pack, "nurse")  # type: ignore[arg-type]


def test_content_check_reports_dangling_article_ids() -> None:
    parsed, version = parse_pack(DEFAULT_CONTENT_DIR)
    good = next(p for p in parsed if p.kind == "articles")
    outline = good.items[0]
    assert isinstance(outline, ArticleOutline)
    data = outline.model_dump(mode="json")
    data["id"] = "broken-article"
    data["clinician"]["sections"][0]["statements"].append("stmt.nope.missing")
    data["patient"]["sections"][0]["regimens"] = ["no-such-regimen"]
    data["patient"]["glossary"] = ["gloss.no-such-term"]
    bad = ParsedFile("articles/broken.yaml", "articles", [ArticleOutline.model_validate(data)])
    report = check_pack([*parsed, bad], version, readability=False)
    messages = {(p.path, p.field, p.message) for p in report.errors}
    assert (
        "articles/broken.yaml",
        "clinician.sections.0.statements",
        "unknown statement 'stmt.nope.missing'",
    ) in messages
    assert (
        "articles/broken.yaml",
        "patient.sections.0.regimens",
        "unknown regimen 'no-such-regimen'",
    ) in messages
    assert (
        "articles/broken.yaml",
        "patient.glossary",
        "unknown glossary entry 'gloss.no-such-term'",
    ) in messages
    # The real outline has no such problem.
    assert not [p for p in report.errors if p.path == good.path]

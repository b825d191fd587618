"""Text and Markdown rendering: the answer page's parts, nothing added to content text."""

from __future__ import annotations

from allguide.ask import AskIndex, answer_question, build_article
from allguide.knowledge.pack import ContentPack
from allguide.render.answer_text import render_answer, render_article


def test_text_answer_has_every_part_in_order(pack: ContentPack, index: AskIndex) -> None:
    answer = answer_question("What is MRD?", pack, index=index)
    out = render_answer(answer)
    order = ["BOTTOM LINE", "REFERENCES", "REVIEW STATUS", "FOLLOW-UP QUESTIONS", "DISCLAIMER"]
    positions = [out.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Pending review" in out
    for ref in answer.references:
        assert f"[{ref.n}]" in out
    assert all(len(line) <= 100 for line in out.splitlines() if "http" not in line)
    for ref in answer.references:  # links are never broken across lines
        assert ref.url is None or ref.url in out


def test_refusal_renders_the_reason_and_no_references(pack: ContentPack, index: AskIndex) -> None:
    out = render_answer(answer_question("How is AML treated?", pack, index=index), markdown=True)
    assert "## Not answered" in out
    assert "acute myeloid leukemia" in out
    assert "## References" not in out and "## Disclaimer" in out


def test_markdown_article_lists_sections_and_glossary(pack: ContentPack) -> None:
    out = render_article(build_article("initial-treatment", pack, "patient"), markdown=True)
    assert out.startswith("# Induction treatment for acute lymphoblastic leukemia")
    assert "## Words to know" in out and "- **Lumbar puncture**:" in out
    assert "## References" in out and "\n1. " in out

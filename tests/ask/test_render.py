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


def test_plan_alerts_come_before_the_bottom_line(
    pack: ContentPack,
    index: AskIndex,
    patient,  # type: ignore[no-untyped-def]
) -> None:
    p = patient(age_years=7, sex="male", lineage="B", wbc_x10e9_per_l=150, g6pd_deficiency=True)
    answer = answer_question("How should we prevent tumour lysis?", pack, patient=p, index=index)
    out = render_answer(answer, markdown=True)
    assert out.index("## Alerts from this patient's plan") < out.index("## Bottom line")
    assert "- CRITICAL: G6PD deficiency: rasburicase is contraindicated" in out
    assert "## General guidance — not for this patient as written" in out
    # No patient, no alerts section.
    plain = render_answer(answer_question("What is MRD?", pack, index=index))
    assert "ALERTS FROM THIS PATIENT'S PLAN" not in plain

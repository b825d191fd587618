"""Answers: only content text, every point cited, audience rendering, refusals, contract."""

from __future__ import annotations

import json

import pytest

from allguide.ask import Answer, AskIndex, AskInputError, Conversation, answer_question
from allguide.ask.compose import item_text, lookup, opening
from allguide.knowledge.pack import ContentPack
from allguide.planning.engine import DISCLAIMER, format_reference

CONTRACT = {
    "question",
    "audience",
    "in_scope",
    "conversation_id",
    "bottom_line",
    "sections",
    "references",
    "glossary",
    "follow_ups",
    "review",
    "disclaimer",
}

QUESTIONS = [
    ("What is the initial treatment for ALL?", "clinician"),
    ("Why dexamethasone rather than prednisone?", "clinician"),
    ("My child needs a spinal tap, what is that?", "patient"),
    ("When is a stem cell transplant recommended?", "clinician"),
    ("What are the side effects of pegaspargase?", "patient"),
    ("How is Ph+ ALL treated in older adults?", "clinician"),
]


def ask(pack: ContentPack, index: AskIndex, question: str, audience: str = "clinician") -> Answer:
    return answer_question(question, pack, audience=audience, index=index)  # type: ignore[arg-type]


@pytest.mark.parametrize(("question", "audience"), QUESTIONS)
def test_every_point_is_content_text_with_its_own_citations(
    pack: ContentPack, index: AskIndex, question: str, audience: str
) -> None:
    answer = ask(pack, index, question, audience)
    assert answer.in_scope
    refs = {r.n: r.id for r in answer.references}
    points = [p for s in answer.sections for p in s.points]
    assert points
    for point in points:
        item = lookup(pack, point.source.kind, point.source.id)
        assert point.text == item_text(item, answer.audience)  # never generated text
        assert point.citations, point.source
        assert point.statement_ids == [item.id]
        assert {refs[n] for n in point.citations} == {
            r for r in item.citations if r in pack.references
        }
    # The bottom line is the opening of the first point, cited like it.
    first = answer.sections[0].points[0]
    assert answer.bottom_line == opening(first.text)
    assert first.text.startswith(answer.bottom_line)
    assert answer.bottom_line_citations == first.citations


@pytest.mark.parametrize(
    ("question", "audience"), [*QUESTIONS, ("What are the treatments for ALL?", "patient")]
)
def test_citations_are_numbered_in_order_of_first_use(
    pack: ContentPack, index: AskIndex, question: str, audience: str
) -> None:
    answer = ask(pack, index, question, audience)
    seen: list[int] = []
    for n in answer.bottom_line_citations + [
        n for s in answer.sections for p in s.points for n in p.citations
    ]:
        if n not in seen:
            seen.append(n)
    assert seen == list(range(1, len(answer.references) + 1))
    for ref in answer.references:
        assert ref.citation == format_reference(pack.references[ref.id])


def test_clinician_and_patient_read_the_same_items_in_their_own_words(
    pack: ContentPack, index: AskIndex
) -> None:
    q = "Why dexamethasone rather than prednisone?"
    clinician, patient = ask(pack, index, q, "clinician"), ask(pack, index, q, "patient")
    stmt = pack.statements["stmt.steroid.dex_vs_pred"]
    clinician_texts = [p.text for s in clinician.sections for p in s.points]
    patient_texts = [p.text for s in patient.sections for p in s.points]
    assert stmt.clinician_text in clinician_texts
    assert stmt.plain_text in patient_texts
    assert stmt.clinician_text not in patient_texts
    # Plain-language answers explain their words; clinicians do not need a glossary.
    assert clinician.glossary == []
    terms = {g.term for g in patient.glossary}
    assert "Steroid" in terms
    assert clinician.disclaimer == DISCLAIMER
    assert patient.disclaimer != DISCLAIMER and "not medical advice" in patient.disclaimer


def test_patient_glossary_lists_terms_used_in_the_answer(
    pack: ContentPack, index: AskIndex
) -> None:
    answer = ask(pack, index, "My child needs a spinal tap, what is that?", "patient")
    # A definition question is answered by the definition first.
    assert answer.sections[0].points[0].source.id == "gloss.lumbar-puncture"
    text = " ".join([answer.bottom_line, *(p.text for s in answer.sections for p in s.points)])
    assert answer.glossary
    for g in answer.glossary:
        names = [g.term, *pack.glossary[g.id].aliases]
        assert any(n.lower() in text.lower() for n in names), g.term
        assert g.definition == pack.glossary[g.id].definition
    shown = {p.source.id for s in answer.sections for p in s.points}
    assert not shown & {g.id for g in answer.glossary}  # not repeated


def test_review_status_is_the_weakest_item_and_never_hidden(
    pack: ContentPack, index: AskIndex
) -> None:
    answer = ask(pack, index, "What is MRD?")
    items = [lookup(pack, p.source.kind, p.source.id) for s in answer.sections for p in s.points]
    assert answer.review.status == "pending review"  # all current content is draft
    assert answer.review.weakest == "draft"
    assert answer.review.last_updated == max(i.review.last_updated for i in items)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("How is AML treated?", "other_condition"),
        ("What is the first-line TKI for chronic-phase CML?", "other_condition"),
        (
            "What is R-CHOP and when is it used for diffuse large B-cell lymphoma?",
            "other_condition",
        ),
        ("What's the weather going to be like tomorrow in Boston?", "not_about_all"),
        ("How do I reverse a linked list in Python?", "not_about_all"),
        ('Translate "good morning" into Spanish.', "not_about_all"),
        ("Can my landlord evict me while I am in the hospital for chemo?", "not_found"),
        # About ALL, but the content has no item on it: no answer rather than a loose one.
        ("What is tisagenlecleucel used for in ALL?", "not_found"),
    ],
)
def test_out_of_scope_questions_are_declined_kindly(
    pack: ContentPack, index: AskIndex, question: str, reason: str
) -> None:
    answer = ask(pack, index, question)
    assert not answer.in_scope
    assert answer.refusal_reason == reason
    assert answer.sections == [] and answer.references == [] and answer.glossary == []
    assert "ALL" in answer.bottom_line or "allguide" in answer.bottom_line
    assert 2 <= len(answer.follow_ups) <= 4
    assert answer.disclaimer


def test_comparing_all_with_another_disease_stays_in_scope(
    pack: ContentPack, index: AskIndex
) -> None:
    assert ask(pack, index, "Is imatinib used for Ph+ ALL as it is for CML?").in_scope


@pytest.mark.parametrize(("question", "audience"), QUESTIONS[:3])
def test_follow_up_suggestions_are_answerable(
    pack: ContentPack, index: AskIndex, question: str, audience: str
) -> None:
    answer = ask(pack, index, question, audience)
    assert 2 <= len(answer.follow_ups) <= 4
    assert question not in answer.follow_ups
    conversation = answer.conversation
    for follow in answer.follow_ups:
        reply = answer_question(
            follow,
            pack,
            audience=audience,
            conversation=conversation,
            index=index,  # type: ignore[arg-type]
        )
        assert reply.in_scope, follow


def test_misspelt_questions_are_understood(pack: ContentPack, index: AskIndex) -> None:
    answer = ask(pack, index, "what are the side efects of dexamethazone in lukemia")
    assert answer.in_scope
    assert answer.retrieval.corrected.get("lukemia") == "leukemia"
    assert answer.retrieval.corrected.get("efects") == "effects"
    used = {p.source.id for s in answer.sections for p in s.points}
    assert "stmt.steroid.dex_toxicity" in used


def test_json_contract(pack: ContentPack, index: AskIndex) -> None:
    answer = ask(pack, index, "What is the initial treatment for ALL?")
    data = json.loads(answer.model_dump_json())
    assert data.keys() >= CONTRACT
    assert set(data["review"]) >= {"status", "last_updated"}
    section = data["sections"][0]
    assert set(section) == {"heading", "points"}
    assert {"text", "citations", "statement_ids"} <= set(section["points"][0])
    assert set(data["references"][0]) == {"n", "id", "citation", "url"}
    assert Answer.model_validate(data) == answer  # round-trips


def test_same_question_same_answer(pack: ContentPack, index: AskIndex) -> None:
    a = ask(pack, index, "How long does maintenance last?", "patient")
    b = ask(pack, index, "How long does maintenance last?", "patient")
    assert a.model_dump_json() == b.model_dump_json()


def test_lexical_fallback_still_answers(pack: ContentPack, lexical_index: AskIndex) -> None:
    answer = ask(pack, lexical_index, "Why dexamethasone rather than prednisone?")
    assert answer.in_scope and answer.retrieval.mode == "lexical"
    assert answer.sections[0].points[0].source.id == "stmt.steroid.dex_vs_pred"


@pytest.mark.parametrize(
    ("question", "audience", "message"),
    [
        ("   ", "clinician", "empty"),
        ("x" * 2001, "clinician", "2000"),
        ("What is MRD?", "nurse", "audience"),
    ],
)
def test_bad_input_is_an_error_with_a_reason(
    pack: ContentPack, index: AskIndex, question: str, audience: str, message: str
) -> None:
    with pytest.raises(AskInputError, match=message):
        answer_question(question, pack, audience=audience, index=index)  # type: ignore[arg-type]


def test_conversation_state_is_json(pack: ContentPack, index: AskIndex) -> None:
    answer = answer_question(
        "What is MRD?", pack, conversation=Conversation(id="conv-test-1"), index=index
    )
    assert answer.conversation_id == "conv-test-1"
    assert answer.conversation is not None
    restored = Conversation.model_validate_json(answer.conversation.model_dump_json())
    assert restored == answer.conversation
    assert restored.turns[-1].question == "What is MRD?"


@pytest.mark.parametrize(
    ("question", "audience", "lead", "not_lead"),
    [
        # Induction failure described by numbers, not named.
        (
            "The day 29 marrow still shows 30% blasts. What next?",
            "clinician",
            "stmt.transplant.induction_failure",
            None,
        ),
        # "So many" taps: why they are repeated (CNS prophylaxis), not the first tap's risks.
        (
            "Why does she need so many spinal taps?",
            "patient",
            "stmt.cns.prophylaxis_all",
            "stmt.cns.traumatic_tap",
        ),
        # A 16-year-old: the adolescent and young adult statements, not children's schedules.
        (
            "Our son is 16. Should he be treated like a child or like an adult?",
            "patient",
            "stmt.induction.aya_pediatric_inspired",
            None,
        ),
    ],
)
def test_questions_that_name_no_topic_word(
    pack: ContentPack,
    index: AskIndex,
    question: str,
    audience: str,
    lead: str,
    not_lead: str | None,
) -> None:
    answer = ask(pack, index, question, audience)
    ids = [p.source.id for s in answer.sections for p in s.points]
    assert ids[0] == lead, ids
    if not_lead:
        assert ids[0] != not_lead


def test_weak_semantic_matches_do_not_outvote_the_words(pack: ContentPack, index: AskIndex) -> None:
    """When even the best candidate is not very similar in meaning, the encoder's small
    differences must not override what the question's words say ("why so many taps")."""
    answer = ask(pack, index, "Why so many spinal taps?")
    assert answer.sections[0].points[0].source.id != "stmt.cns.traumatic_tap"
    assert "stmt.cns.prophylaxis_all" in [p.source.id for s in answer.sections for p in s.points]


@pytest.mark.parametrize(
    "question", ["What are the treatments for ALL?", "What is the initial treatment for ALL?"]
)
def test_a_general_treatment_question_gets_the_overview(
    pack: ContentPack, index: AskIndex, question: str
) -> None:
    """ "Treatment" alone reads as the initial-treatment overview, and items for a subgroup
    the question did not name (T-ALL, Down syndrome, infants) do not crowd it out."""
    answer = ask(pack, index, question)
    ids = [p.source.id for s in answer.sections for p in s.points]
    assert ids[0] == "stmt.overview.backbone", ids
    assert {"stmt.overview.phases", "stmt.overview.risk_adapted"} <= set(ids)
    assert not {"stmt.consolidation.nelarabine_t_all", "stmt.risk.down_syndrome"} & set(ids)


@pytest.mark.parametrize(
    ("question", "audience", "lead"),
    [
        ("What are the symptoms of ALL?", "patient", "stmt.about.symptoms"),
        ("How is ALL diagnosed?", "clinician", "stmt.about.diagnosis"),
        ("Will my daughter with ALL be cured?", "patient", "stmt.about.outlook_children"),
        ("Why does vincristine make his fingers tingle?", "patient", None),
    ],
)
def test_questions_on_symptoms_diagnosis_outlook_and_side_effects_are_answered(
    pack: ContentPack, index: AskIndex, question: str, audience: str, lead: str | None
) -> None:
    answer = ask(pack, index, question, audience)
    assert answer.in_scope, question
    ids = [p.source.id for s in answer.sections for p in s.points]
    if lead:
        assert ids[0] == lead, ids
    else:
        assert {
            "stmt.side_effects.vincristine_nerves",
            "stmt.side_effects.vincristine_mechanism",
        } & set(ids), ids

"""Follow-ups: a conversation keeps the topic; a follow-up changes who it is about."""

from __future__ import annotations

from allguide.ask import Answer, AskIndex, Conversation, answer_question
from allguide.knowledge.pack import ContentPack


def used(answer: Answer) -> list[str]:
    return [p.source.id for s in answer.sections for p in s.points]


def chat(pack: ContentPack, index: AskIndex, *questions: str) -> list[Answer]:
    conversation = Conversation(id="test-conversation")
    answers = []
    for q in questions:
        answer = answer_question(q, pack, conversation=conversation, index=index)
        assert answer.conversation is not None
        conversation = answer.conversation
        answers.append(answer)
    return answers


def test_what_about_older_adults_keeps_the_topic(pack: ContentPack, index: AskIndex) -> None:
    first, older, children = chat(
        pack, index, "What is the initial treatment for ALL?", "what about older adults?",
        "and for children?",
    )  # fmt: skip
    assert used(first)[0] == "stmt.overview.backbone"
    assert older.retrieval.followup == "refine"
    assert older.facets.population == "older_adult"
    assert older.facets.sources == {"population": "question"}
    assert used(older)[0].startswith("stmt.induction.older_")
    assert {"stmt.induction.older_moderate_intensity", "stmt.induction.older_inotuzumab"} <= set(
        used(older)
    )
    assert children.facets.population == "child"
    assert "stmt.induction.pediatric_sr_3drug" in used(children)
    assert not any(u.startswith("stmt.induction.older_") for u in used(children))


def test_why_resolves_to_the_previous_topic(pack: ContentPack, index: AskIndex) -> None:
    first, why = chat(pack, index, "Why dexamethasone rather than prednisone?", "why?")
    assert why.in_scope
    assert why.retrieval.followup == "why"
    assert why.topic == first.topic == "steroid"
    assert used(why)[0] == used(first)[0]


def test_a_topicless_question_inherits_the_topic(pack: ContentPack, index: AskIndex) -> None:
    _, follow = chat(pack, index, "What is maintenance therapy?", "How long does it last?")
    assert follow.in_scope
    assert "stmt.maintenance.duration" in used(follow)


def test_new_question_in_a_conversation_starts_fresh(pack: ContentPack, index: AskIndex) -> None:
    _, _, new = chat(
        pack, index, "What is the initial treatment for ALL?", "what about older adults?",
        "What is the Philadelphia chromosome?",
    )  # fmt: skip
    assert new.retrieval.followup is None
    assert new.facets.population is None  # older adults belonged to the earlier topic
    assert used(new)[0] == "gloss.philadelphia-chromosome"


def test_out_of_scope_turns_do_not_become_the_topic(pack: ContentPack, index: AskIndex) -> None:
    first, weather, follow = chat(
        pack, index, "What is the initial treatment for ALL?", "what about the weather?",
        "and for children?",
    )  # fmt: skip
    assert first.in_scope and not weather.in_scope
    assert follow.in_scope and "stmt.induction.pediatric_sr_3drug" in used(follow)
    assert follow.conversation is not None
    assert [t.in_scope for t in follow.conversation.turns] == [True, False, True]


def test_a_follow_up_about_another_disease_is_declined(pack: ContentPack, index: AskIndex) -> None:
    _, aml = chat(pack, index, "What is the initial treatment for ALL?", "and for AML?")
    assert not aml.in_scope and aml.refusal_reason == "other_condition"


def test_without_a_conversation_there_is_nothing_to_follow(
    pack: ContentPack, index: AskIndex
) -> None:
    answer = answer_question("why?", pack, index=index)
    assert not answer.in_scope
    # The core still returns conversation state (with a derived id) to continue from.
    assert answer.conversation is not None and answer.conversation_id


def test_a_population_follow_up_keeps_the_previous_topic(
    pack: ContentPack, index: AskIndex
) -> None:
    """ "What about in adults?" after a prephase question is about prephase in adults, not
    about adult induction in general."""
    first, adults = chat(
        pack, index, "What is the role of hydroxyurea before induction?", "what about in adults?"
    )
    assert first.topic == "prephase"
    assert adults.retrieval.followup == "refine"
    assert adults.topic == "prephase"
    assert adults.facets.population == "adult"
    assert "stmt.prephase.steroid_prephase" in used(adults)
    assert pack.statements[used(adults)[0]].topic == "prephase"

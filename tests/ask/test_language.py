"""Question understanding: tokens, synonyms, facets, ages, scope and follow-up detection."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allguide.ask import AskIndex
from allguide.ask.language import language, question_age, stem


def concepts(index: AskIndex, text: str) -> set[str]:
    return index.analyze(text).concepts


def test_all_the_disease_is_not_all_the_word(lexical_index: AskIndex) -> None:
    assert "all" in concepts(lexical_index, "What is the initial treatment for ALL?")
    assert "all" not in concepts(lexical_index, "Do all patients need this?")
    # Shouted questions say nothing by case: "ALL" there is the word.
    assert "all" not in concepts(lexical_index, "WHAT ARE ALL THE STEPS TO CHANGE A TIRE?")


@pytest.mark.parametrize(
    ("question", "concept"),
    [
        ("My child needs a spinal tap", "lumbar_puncture"),
        ("Why an LP at diagnosis?", "lumbar_puncture"),
        ("When is a bone marrow transplant done?", "hct"),
        ("allo-HCT in CR1?", "hct"),
        ("Is SCT indicated?", "hct"),
        ("Ph+ ALL", "ph_positive"),
        ("Philadelphia chromosome-positive", "ph_positive"),
        ("BCR::ABL1 positive disease", "ph_positive"),
        ("t(9;22)", "ph_positive"),
        ("Ph-negative adults", "ph_negative"),
        ("IT methotrexate", "intrathecal"),
        ("minimal residual disease", "mrd"),
        ("side effects of chemo", "chemo"),
        ("which steroid", "steroid"),
        ("Gleevec dose", "drug:imatinib"),
        ("Oncaspar allergy", "drug:pegaspargase"),
        ("Rylaze", "erwinia"),
        ("TLS ppx?", "prophylaxis"),
    ],
)
def test_synonyms_and_abbreviations(lexical_index: AskIndex, question: str, concept: str) -> None:
    assert concept in concepts(lexical_index, question)


def test_it_the_pronoun_is_not_intrathecal(lexical_index: AskIndex) -> None:
    assert "intrathecal" not in concepts(lexical_index, "Is it safe to give it at home?")


def test_broader_terms_reach_documents_not_questions(lexical_index: AskIndex) -> None:
    # A text naming dexamethasone is about a steroid ...
    assert lexical_index.doc_terms("dexamethasone 6 mg/m2")["@steroid"] == 1
    # ... but a question about dexamethasone is not about every steroid.
    assert "steroid" not in concepts(lexical_index, "dexamethasone dose")


def test_light_stemming() -> None:
    assert stem("relapses") == "relapse"
    assert stem("therapies") == "therapy"
    assert stem("status") == "status"
    assert stem("mg") == "mg"


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("a 70-year-old with ALL", Decimal(70)),
        ("my 5 yo son", Decimal(5)),
        ("an 18 months old baby", Decimal("1.5")),
        ("patients over 60", Decimal("60.5")),
        ("children under 1 year", Decimal("0.5")),
        ("Our son is 16. Should he", Decimal(16)),
        ("My mom is 75 and", Decimal(75)),
        ("aged 67", Decimal(67)),
        ("a three-year-old girl", Decimal(3)),
        ("What if the WBC is over 50?", None),
        ("dexamethasone for 28 days", None),
        ("she is 3 days into induction", None),
    ],
)
def test_ages_in_questions(text: str, age: Decimal | None) -> None:
    assert question_age(text) == age


@pytest.mark.parametrize(
    ("question", "population", "ph", "lineage"),
    [
        ("What about older adults?", "older_adult", None, None),
        ("and for kids?", "child", None, None),
        ("treatment of T-ALL in adolescents", "aya", None, "T"),
        ("Ph+ ALL in a 70-year-old", "older_adult", "positive", None),
        ("infants with ALL", "infant", None, None),
        ("a 45-year-old with Ph-negative B-ALL", "adult", "negative", "B"),
        ("children and adults", None, None, None),  # two groups: no single facet
    ],
)
def test_facets_from_the_question(
    lexical_index: AskIndex,
    question: str,
    population: str | None,
    ph: str | None,
    lineage: str | None,
) -> None:
    f = lexical_index.analyze(question).facets
    assert (f.population, f.ph_status, f.lineage) == (population, ph, lineage)


def test_age_uses_the_content_thresholds(lexical_index: AskIndex, pack) -> None:  # type: ignore[no-untyped-def]
    older = pack.threshold("age.older_adult_years")
    assert lexical_index.population_for_age(older) == "older_adult"
    assert lexical_index.population_for_age(older - 1) == "adult"


@pytest.mark.parametrize(
    ("question", "condition", "mentions_all"),
    [
        ("How is AML treated?", "acute myeloid leukemia (AML)", False),
        (
            "How is chronic lymphocytic leukemia treated?",
            "chronic lymphocytic leukemia (CLL)",
            False,
        ),
        ("What is the first-line TKI for CML?", "chronic myeloid leukemia (CML)", False),
        ("Hormone therapy for breast cancer", "another cancer", False),
        ("How does ALL differ from AML?", "acute myeloid leukemia (AML)", True),
        ("What is the initial treatment for ALL?", None, True),
    ],
)
def test_other_conditions(question: str, condition: str | None, mentions_all: bool) -> None:
    lang = language()
    scope = lang.scope(lang.tokens(question))
    assert scope.other_condition == condition
    assert scope.mentions_all is mentions_all


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("why?", "why"),
        ("Why is that?", "why"),
        ("What about older adults?", "refine"),
        ("and in children?", "refine"),
        ("And in high-risk patients?", "refine"),
        ("Is it the same for T-ALL?", "refine"),
        ("What is the role of asparaginase activity monitoring in adults?", None),
    ],
)
def test_follow_up_detection(lexical_index: AskIndex, question: str, kind: str | None) -> None:
    assert lexical_index.analyze(question).followup == kind


def test_anchor_words_are_technical(lexical_index: AskIndex) -> None:
    q = lexical_index.analyze("How do I reverse a linked list in Python?")
    assert not q.strong_anchor
    assert lexical_index.analyze("What is asparaginase?").strong_anchor
    assert lexical_index.analyze("What does CNS3 mean?").strong_anchor


@pytest.mark.parametrize(
    ("question", "concept", "found"),
    [
        # Numbers inside a phrase are passed over: the phrase is "still shows blasts".
        ("The day 29 marrow still shows 30% blasts", "induction_failure", True),
        ("still shows 0.5% blasts", "induction_failure", True),
        # ...at most two of them, and never anything but numbers.
        ("still shows 1 2 3 blasts", "induction_failure", False),
        ("still shows many blasts", "induction_failure", False),
        # Phrases written with numbers still match as written.
        ("t(9;22)", "ph_positive", True),
        ("trisomy 21", "down_syndrome", True),
    ],
)
def test_phrases_interrupted_by_numbers(
    lexical_index: AskIndex, question: str, concept: str, found: bool
) -> None:
    assert (concept in concepts(lexical_index, question)) is found


@pytest.mark.parametrize(
    ("question", "population", "also"),
    [
        # 16 is a child by the content's age thresholds, and a teenager in everyday words.
        ("Our son is 16. Should he be treated like a child or like an adult?", "child", "aya"),
        ("a 13-year-old with T-ALL", "child", "aya"),
        ("a 19-year-old with B-ALL", "aya", None),  # already in the teenagers' group
        ("a 9-year-old with B-ALL", "child", None),
        ("a 25-year-old with B-ALL", "aya", None),
        ("teenagers with ALL", "aya", None),
    ],
)
def test_teenage_ages_are_also_about_teenagers(
    lexical_index: AskIndex, question: str, population: str, also: str | None
) -> None:
    f = lexical_index.analyze(question).facets
    assert (f.population, f.also_population) == (population, also)


def test_repetition_words_say_what_is_asked(lexical_index: AskIndex) -> None:
    q = lexical_index.analyze("Why does she need so many spinal taps?")
    assert {"repetition", "lumbar_puncture"} <= q.concepts
    # It says what kind of answer is wanted, so it weighs more than a plain concept.
    assert q.terms["@repetition"] > q.terms["@lumbar_puncture"]
    assert not lexical_index.analyze("so many").strong_anchor  # not, alone, about ALL

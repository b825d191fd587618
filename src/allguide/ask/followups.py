"""Fixed interface phrases: follow-up suggestions, headings, refusals, patient disclaimer.

Follow-up questions are templates keyed by content topic (the second part of a statement
id). They suggest what to ask next; every one is answered from content like any question.
"""

from __future__ import annotations

from allguide.ask.models import Audience, PopulationName, RefusalReason

# topic -> (clinician question, patient question)
TOPIC_QUESTIONS: dict[str, tuple[str, str]] = {
    "overview": ("What is the initial treatment for ALL?", "How is ALL treated?"),
    "induction": ("Which induction regimen is used?", "What happens during induction?"),
    "steroid": ("Why dexamethasone rather than prednisone?", "Why are steroids part of treatment?"),
    "asparaginase": (
        "Which asparaginase formulation should be used?",
        "What is asparaginase and what are its side effects?",
    ),
    "cns": ("How is CNS-directed therapy given?", "Why is medicine put into the spinal fluid?"),
    "supportive": (
        "Which infection prophylaxis is recommended during induction?",
        "How are infections prevented during treatment?",
    ),
    "consolidation": ("What does consolidation involve?", "What happens after induction?"),
    "maintenance": ("How long does maintenance therapy last?", "What is maintenance treatment?"),
    "mrd": ("How does MRD guide therapy?", "What is MRD and why does it matter?"),
    "risk": ("How is the risk group assigned?", "What decides how strong the treatment is?"),
    "ph": ("How is Ph-positive ALL treated?", "What is Philadelphia chromosome-positive ALL?"),
    "transplant": (
        "When is allogeneic stem cell transplant indicated?",
        "When is a stem cell transplant needed?",
    ),
    "pitfalls": (
        "What pitfalls should be avoided in initial treatment?",
        "What safety checks are done during treatment?",
    ),
    "prephase": ("What is the prephase before induction?", "What is prephase treatment?"),
    "trials": ("Should a clinical trial be offered?", "Should I join a clinical trial?"),
}
DEFAULT_TOPICS = ("overview", "steroid", "cns", "maintenance")

# Re-ask the same topic for another group (answered as a follow-up in the conversation).
POPULATION_QUESTIONS: dict[PopulationName, tuple[str, str]] = {
    "infant": ("And for infants?", "And for babies?"),
    "child": ("And for children?", "And for children?"),
    "aya": ("What about adolescents and young adults?", "What about teenagers and young adults?"),
    "adult": ("What about adults?", "What about adults?"),
    "older_adult": ("What about older adults?", "What about older adults?"),
}
# Which group to suggest next, given the group the answer was about.
NEXT_POPULATION: dict[PopulationName | None, PopulationName] = {
    None: "older_adult",
    "infant": "child",
    "child": "older_adult",
    "aya": "adult",
    "adult": "older_adult",
    "older_adult": "child",
}

FOR_THIS_PATIENT = "For this patient"
WHERE_SOURCES_DIFFER = "Where sources differ"
HEADINGS: dict[str, tuple[str, str]] = {
    "regimen": ("Regimens", "Treatment schedules"),
    "glossary": ("Definitions", "What the words mean"),
    # Items that give something the patient's plan rules out (rasburicase with G6PD
    # deficiency): shown as general guidance only, never as applying to the patient.
    "not_for_patient": (
        "General guidance — not for this patient as written (the plan rules out part of it)",
        "General information — part of this does not apply to this patient",
    ),
}

PATIENT_DISCLAIMER = (
    "This is general information about acute lymphoblastic leukemia, not medical advice for "
    "you or your child. Your care team knows the whole situation: talk with them before you "
    "change or stop anything. Information marked 'pending review' has not yet been checked "
    "by allguide's medical reviewers."
)

_REFUSALS: dict[RefusalReason, tuple[str, str]] = {
    "other_condition": (
        "allguide covers acute lymphoblastic leukemia (ALL) only, and this question seems to "
        "be about {condition}. It has no reviewed content on that, so it gives no answer "
        "rather than a guess. Please use a resource for that condition.",
        "allguide only has information about acute lymphoblastic leukemia (ALL). Your "
        "question seems to be about {condition}, so we cannot answer it here. Please ask your "
        "care team, who can point you to good information.",
    ),
    "not_about_all": (
        "allguide answers questions about acute lymphoblastic leukemia (ALL) and its "
        "treatment. This question seems to be about something else, so there is no answer "
        "here.",
        "allguide answers questions about acute lymphoblastic leukemia (ALL) and its "
        "treatment. Your question seems to be about something else, so we cannot answer it "
        "here.",
    ),
    "not_found": (
        "allguide found nothing in its reviewed content that answers this question, so it "
        "gives no answer rather than a guess. Try rephrasing, or ask about a treatment "
        "phase, a drug or a test used in ALL.",
        "We could not find an answer to this question in allguide's checked information. "
        "Try asking in other words, or ask your care team.",
    ),
}


def refusal_message(reason: RefusalReason, audience: Audience, condition: str | None) -> str:
    clinician, patient = _REFUSALS[reason]
    text = clinician if audience == "clinician" else patient
    return text.format(condition=condition or "another condition")


def topic_question(topic: str, audience: Audience) -> str | None:
    pair = TOPIC_QUESTIONS.get(topic)
    if pair is None:
        return None
    return pair[0] if audience == "clinician" else pair[1]


def population_question(population: PopulationName, audience: Audience) -> str:
    pair = POPULATION_QUESTIONS[population]
    return pair[0] if audience == "clinician" else pair[1]


def heading(kind: str, audience: Audience) -> str:
    pair = HEADINGS[kind]
    return pair[0] if audience == "clinician" else pair[1]

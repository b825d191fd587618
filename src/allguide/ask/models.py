"""Answers, articles and conversations: plain serialisable data (the JSON public contract).

Contract fields (issue #3): question, audience, in_scope, conversation_id, bottom_line,
sections[{heading, points[{text, citations, statement_ids}]}], references[{n, id, citation,
url}], glossary[{term, definition}], follow_ups, review{status, last_updated}, disclaimer.
Everything else is an addition.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Audience = Literal["clinician", "patient"]
AUDIENCES: tuple[Audience, ...] = ("clinician", "patient")
SourceKind = Literal["statement", "regimen", "glossary"]
PopulationName = Literal["infant", "child", "aya", "adult", "older_adult"]
RefusalReason = Literal["other_condition", "not_about_all", "not_found"]

ASK_SCHEMA_VERSION = "1.0"


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Out):
    kind: SourceKind
    id: str


class Point(Out):
    text: str = Field(description="The content item's text for the audience, unchanged")
    citations: list[int] = Field(description="Numbers into `references`")
    statement_ids: list[str] = Field(
        description="Ids of the content items (statement, regimen or glossary entry) the text "
        "comes from; its citations are theirs"
    )
    source: Source = Field(description="The content item the text comes from")
    title: str | None = Field(default=None, description="The item's title (statements, regimens)")
    evidence: str | None = Field(default=None, description="Evidence grading as the source gives")


class Section(Out):
    heading: str
    points: list[Point]


class AnswerReference(Out):
    n: int
    id: str
    citation: str
    url: str | None


class GlossaryItem(Out):
    id: str
    term: str
    definition: str


class ReviewInfo(Out):
    status: str = Field(
        description="'approved' only when every item used is approved, else 'pending review'; "
        "'not applicable' when no content was used"
    )
    last_updated: dt.date | None
    weakest: str | None = Field(default=None, description="Weakest editorial status used")
    counts: dict[str, int] = Field(default_factory=dict)


class FacetsOut(Out):
    population: PopulationName | None = None
    ph_status: Literal["positive", "negative"] | None = None
    lineage: Literal["B", "T"] | None = None
    sources: dict[str, Literal["question", "patient", "conversation"]] = Field(
        default_factory=dict, description="Where each facet came from"
    )


class Turn(Out):
    question: str
    topic_query: str = Field(description="The question's topic, without who it is about")
    facets: FacetsOut
    topic: str | None = Field(default=None, description="Content topic of the answer")
    item_ids: list[str] = Field(default_factory=list)
    in_scope: bool = True


class Conversation(BaseModel):
    """Conversation state kept by the caller between questions (a JSON file, a DB row)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    turns: list[Turn] = Field(default_factory=list)

    def last_in_scope(self) -> Turn | None:
        return next((t for t in reversed(self.turns) if t.in_scope), None)


class Retrieval(Out):
    mode: Literal["hybrid", "lexical"]
    followup: Literal["why", "refine"] | None = None
    resolved_query: str
    corrected: dict[str, str] = Field(default_factory=dict, description="Spelling corrections")
    note: str | None = None


class PatientAlert(Out):
    """An alert of the core engine's plan for this patient that bears on the answer."""

    severity: Literal["critical", "warning", "info"]
    code: str
    message: str = Field(description="The plan's alert text (engine output, not content)")
    statement_id: str | None = Field(
        default=None, description="The statement the alert's rule serves (shown first)"
    )


class Answer(Out):
    schema_version: str = ASK_SCHEMA_VERSION
    question: str
    audience: Audience
    in_scope: bool
    refusal_reason: RefusalReason | None = None
    conversation_id: str | None
    bottom_line: str
    bottom_line_citations: list[int] = Field(default_factory=list)
    sections: list[Section]
    references: list[AnswerReference]
    glossary: list[GlossaryItem]
    follow_ups: list[str]
    review: ReviewInfo
    disclaimer: str
    facets: FacetsOut
    topic: str | None = None
    for_this_patient: list[str] = Field(
        default_factory=list, description="Ids of the items shown under 'For this patient'"
    )
    patient_alerts: list[PatientAlert] = Field(
        default_factory=list,
        description="Alerts of the patient's plan that bear on this answer, most severe first",
    )
    not_for_this_patient: list[str] = Field(
        default_factory=list,
        description="Ids of items shown as general guidance only: they give something the "
        "patient's plan rules out",
    )
    content_version: str
    retrieval: Retrieval
    conversation: Conversation | None = Field(
        default=None, description="Updated conversation state (store it for follow-ups)"
    )


class Article(Out):
    schema_version: str = ASK_SCHEMA_VERSION
    topic_id: str
    audience: Audience
    title: str
    bottom_line: str
    bottom_line_citations: list[int] = Field(default_factory=list)
    sections: list[Section]
    references: list[AnswerReference]
    glossary: list[GlossaryItem]
    review: ReviewInfo
    disclaimer: str
    content_version: str

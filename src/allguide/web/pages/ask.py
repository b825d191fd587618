"""Home page (ask a question, linkable by GET) and topic articles for each audience."""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from allguide.ask import (
    ARTICLE_TOPICS,
    AskIndex,
    AskInputError,
    Audience,
    Conversation,
    answer_question,
    build_article,
)
from allguide.knowledge.pack import ContentPack
from allguide.planning.engine import DISCLAIMER
from allguide.store import ConversationRepository
from allguide.web.deps import DbSession, get_index, get_pack
from allguide.web.errors import NotFound
from allguide.web.pages.answers import answer_view
from allguide.web.pages.templating import render

router = APIRouter(include_in_schema=False)

Pack = Annotated[ContentPack, Depends(get_pack)]
Db = DbSession
Index = Annotated[AskIndex, Depends(get_index)]

# "Which best describes you?" — family members read the plain-language (patient) text.
AUDIENCES = (
    ("clinician", "Health professional"),
    ("patient", "Patient"),
    ("family", "Family member or carer"),
)
_AUDIENCE_OF = {"clinician": "clinician", "patient": "patient", "family": "patient"}
MAX_QUESTION = 1000
STARTERS = (
    "What is the initial treatment for acute lymphoblastic leukemia?",
    "Why dexamethasone rather than prednisone?",
    "What is a lumbar puncture?",
    "How is MRD used to guide treatment?",
)


def _choice(audience: str) -> str:
    return audience if audience in _AUDIENCE_OF else "clinician"


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    pack: Pack,
    db: Db,
    index: Index,
    q: str = "",
    audience: str = "clinician",
    conversation: str = "",
) -> HTMLResponse:
    choice = _choice(audience)
    context: dict[str, Any] = {
        "a": None,
        "q": q,
        "q_error": None,
        "audiences": AUDIENCES,
        "audience_choice": choice,
        "starters": STARTERS,
        "disclaimer_text": DISCLAIMER,
    }
    question = " ".join(q.split())
    if not question:
        return render(request, "home.html", context)
    if len(question) > MAX_QUESTION:
        context["q_error"] = f"Please keep the question under {MAX_QUESTION} characters."
        return render(request, "home.html", context, status_code=422)
    conversations = ConversationRepository(db)
    state = _load_conversation(conversations, conversation)
    try:
        answer = answer_question(
            question,
            pack,
            audience=cast(Audience, _AUDIENCE_OF[choice]),
            conversation=state,
            index=index,
        )
    except AskInputError as exc:
        context["q_error"] = str(exc)
        return render(request, "home.html", context, status_code=422)
    if answer.conversation is not None:
        conversations.save(answer.conversation.id, answer.conversation.model_dump_json())
    view = answer_view(answer.model_dump(mode="json"), choice)
    context["a"] = view
    context["review_text"] = (
        "Approved by the medical advisory board"
        if view.review_status == "approved"
        else "Pending review"
    )
    # Switching audience re-asks the same question (same conversation, other wording).
    context["audience_links"] = [
        (value, label, "/?" + urlencode(_params(question, value, conversation)))
        for value, label in AUDIENCES
    ]
    return render(request, "home.html", context)


def _params(question: str, audience: str, conversation: str) -> dict[str, str]:
    params = {"q": question, "audience": audience}
    if conversation:
        params["conversation"] = conversation
    return params


def _load_conversation(repo: ConversationRepository, conversation_id: str) -> Conversation | None:
    """The stored conversation, or None (unknown, expired or malformed ids start afresh)."""
    if not conversation_id or len(conversation_id) > 100:
        return None
    stored = repo.load(conversation_id)
    if stored is None:
        return None
    try:
        return Conversation.model_validate_json(stored)
    except ValidationError:
        return None


@router.get("/articles", response_class=HTMLResponse)
def articles(request: Request, pack: Pack) -> HTMLResponse:
    topics = [
        {"id": t, "title": outline.title if (outline := pack.articles.get(t)) else t}
        for t in ARTICLE_TOPICS
        if t in pack.articles
    ]
    return render(request, "articles.html", {"topics": topics})


@router.get("/articles/{topic}", response_class=HTMLResponse)
def article(request: Request, topic: str, pack: Pack, audience: str = "clinician") -> HTMLResponse:
    if topic not in ARTICLE_TOPICS or topic not in pack.articles:
        raise NotFound(f"no article '{topic}'; see the list at /articles")
    choice = _choice(audience)
    built = build_article(topic, pack, cast(Audience, _AUDIENCE_OF[choice]))
    view = answer_view(built.model_dump(mode="json"), choice)
    return render(
        request,
        "article.html",
        {"a": view, "topic": topic, "audience": choice, "audiences": AUDIENCES},
    )

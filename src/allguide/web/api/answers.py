"""`POST /answers`: a cited answer from reviewed content, with follow-up questions.

The conversation state (which topic and facets were asked about, never the patient's
findings) is stored under its id; send `conversation_id` back to ask a follow-up.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from allguide.ask import Answer, AskInputError, Conversation, answer_question
from allguide.patient.intake import InputError, parse_patient
from allguide.store import ConversationRepository
from allguide.web.api.body import body_doc, json_body, validated
from allguide.web.api.schemas import AnswerRequest
from allguide.web.deps import DbSession, get_served
from allguide.web.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    error_responses,
    patient_fields,
)
from allguide.web.security import limit_writes
from allguide.web.state import Served

router = APIRouter(tags=["Ask"])


@router.post(
    "/answers",
    response_model=Answer,
    summary="Ask a question",
    responses=error_responses(404, 413, 415, 422, 429),
    dependencies=[Depends(limit_writes)],
    openapi_extra=body_doc("AnswerRequest"),
)
def create_answer(
    body: Annotated[Any, Depends(json_body)],
    served: Annotated[Served, Depends(get_served)],
    db: DbSession,
) -> Response:
    """Answer from the served content only, every point cited; out-of-scope questions are
    declined (`in_scope: false`), never guessed."""
    payload = validated(AnswerRequest, body)
    pack = served.pack
    patient = None
    if payload.patient is not None:
        try:
            patient = parse_patient(payload.patient, pack)
        except InputError as exc:
            fields = patient_fields(exc)
            raise InvalidInput(
                f"the patient findings have {len(fields)} problem(s); see `fields`", fields=fields
            ) from None
    conversations = ConversationRepository(db)
    if payload.conversation_id is not None:
        state = conversations.load(payload.conversation_id)
        if state is None:
            raise NotFound(
                f"no conversation '{payload.conversation_id}'; ask without conversation_id "
                "to start a new one"
            )
        conversation = Conversation.model_validate_json(state)
    else:
        conversation = Conversation(id=secrets.token_urlsafe(16))
    audience = "patient" if payload.audience == "family" else payload.audience
    try:
        answer = answer_question(
            payload.question,
            pack,
            audience=audience,
            patient=patient,
            conversation=conversation,
            index=served.index,
        )
    except AskInputError as exc:
        raise InvalidInput(
            str(exc),
            fields=[FieldProblem(field="question", value=payload.question, expected=str(exc))],
        ) from None
    if answer.conversation is not None:
        conversations.save(answer.conversation.id, answer.conversation.model_dump_json())
    return Response(answer.model_dump_json(), media_type="application/json")

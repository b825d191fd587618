"""Editorial review: who may change content and how (workflow), applied to the store
(service). See `workflow.py` for the rules."""

from allguide.editorial.service import EditorialService, state_of
from allguide.editorial.workflow import (
    Action,
    Actor,
    Conflict,
    Forbidden,
    InvalidContent,
    NotFound,
    Status,
    VersionState,
    WorkflowError,
    allowed_actions,
    check_edit,
    check_transition,
)

__all__ = [
    "Action",
    "Actor",
    "Conflict",
    "EditorialService",
    "Forbidden",
    "InvalidContent",
    "NotFound",
    "Status",
    "VersionState",
    "WorkflowError",
    "allowed_actions",
    "check_edit",
    "check_transition",
    "state_of",
]

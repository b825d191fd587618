"""The editorial workflow as a pure state machine (no database, no clock).

A content item has numbered versions. Each version moves through:

    draft --submit--> submitted --approve--> approved --retire--> retired
                                 \\--reject--> rejected  (the author then edits: a new draft)

- Only authors and admins edit; editing always creates a NEW draft version, and the
  served version keeps being served until that draft is approved.
- An item has at most one open (draft or submitted) version besides the served one.
  Editing again replaces the open draft (it becomes `superseded`); an open version that
  is awaiting review must be reviewed first. Approving a version supersedes any other
  open version of the item.
- Reviewers and admins approve, reject and retire. A reviewer is never the version's
  author nor the person who submitted it. Rejecting and retiring need a comment.
- Retiring takes the served version out of the served pack (kept in history). Content
  imported from files can be pending review while served; it may be retired too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from allguide.accounts.roles import Role, can_edit, can_review


class Status(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    retired = "retired"
    superseded = "superseded"  # an open version replaced before it was approved


OPEN_STATUSES = frozenset({Status.draft, Status.submitted})


class Action(StrEnum):
    edit = "edit"
    submit = "submit"
    approve = "approve"
    reject = "reject"
    retire = "retire"


class WorkflowError(Exception):
    """An editorial action was refused. `code` says what kind of refusal it is:
    forbidden (role or person), conflict (wrong state), not_found, invalid (content)."""

    code = "conflict"

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


class Forbidden(WorkflowError):
    code = "forbidden"


class Conflict(WorkflowError):
    code = "conflict"


class NotFound(WorkflowError):
    code = "not_found"


class InvalidContent(WorkflowError):
    code = "invalid"


class Actor(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> Role: ...


@dataclass(frozen=True)
class VersionState:
    """What the workflow needs to know about a version."""

    number: int
    status: Status
    author: str
    submitted_by: str | None = None
    served: bool = False
    imported: bool = False  # from the content files: nobody in the app wrote it


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.submit: (frozenset({Status.draft}), Status.submitted),
    Action.approve: (frozenset({Status.submitted}), Status.approved),
    Action.reject: (frozenset({Status.submitted}), Status.rejected),
    Action.retire: (frozenset({Status.draft, Status.submitted, Status.approved}), Status.retired),
}


def open_version(versions: Iterable[VersionState]) -> VersionState | None:
    """The newest draft or submitted version that is not the served one."""
    candidates = [v for v in versions if v.status in OPEN_STATUSES and not v.served]
    return max(candidates, key=lambda v: v.number, default=None)


def check_edit(actor: Actor, versions: Iterable[VersionState]) -> VersionState | None:
    """May `actor` write a new draft? Returns the open version it will supersede, if any."""
    if not can_edit(actor.role):
        raise Forbidden(f"{actor.username} is a {actor.role}: only authors and admins edit content")
    current = open_version(versions)
    if current is None:
        return None
    if current.status == Status.submitted:
        raise Conflict(
            f"version {current.number} is awaiting review; it must be approved or rejected "
            "before a new draft is written"
        )
    if current.author != actor.username and actor.role != Role.admin:
        raise Conflict(
            f"{current.author} has an open draft (version {current.number}); only they or an "
            "admin can replace it"
        )
    return current


def check_transition(
    action: Action, version: VersionState, actor: Actor, *, comment: str | None = None
) -> Status:
    """The status `version` moves to, or WorkflowError saying why `actor` may not act."""
    if action == Action.edit:
        raise ValueError("use check_edit() for edits")
    allowed_from, target = TRANSITIONS[action]
    if action == Action.submit:
        if not can_edit(actor.role):
            raise Forbidden(f"{actor.username} is a {actor.role}: only authors and admins submit")
        if not version.imported and version.author != actor.username and actor.role != Role.admin:
            raise Forbidden(
                f"version {version.number} was written by {version.author}; only they or an "
                "admin can submit it"
            )
    else:
        if not can_review(actor.role):
            raise Forbidden(
                f"{actor.username} is a {actor.role}: only reviewers and admins can {action}"
            )
        if action in (Action.approve, Action.reject):
            if actor.username == version.author:
                raise Forbidden(
                    f"{actor.username} wrote version {version.number}: a reviewer must not "
                    "review their own work"
                )
            if actor.username == version.submitted_by:
                raise Forbidden(
                    f"{actor.username} submitted version {version.number}: a reviewer must "
                    "not review what they submitted"
                )
        if action in (Action.reject, Action.retire) and not (comment and comment.strip()):
            raise InvalidContent(f"{action} needs a comment saying why")
        if action == Action.retire and not version.served:
            raise Conflict(f"version {version.number} is not served, so it cannot be retired")
    if version.status not in allowed_from:
        expected = " or ".join(sorted(allowed_from))
        raise Conflict(
            f"cannot {action} version {version.number}: it is {version.status}, expected {expected}"
        )
    return target


def allowed_actions(
    version: VersionState, actor: Actor, versions: Iterable[VersionState] = ()
) -> list[Action]:
    """Actions `actor` may take on `version` now (for buttons in the editor)."""
    out = []
    for action in (Action.submit, Action.approve, Action.reject, Action.retire):
        try:
            check_transition(action, version, actor, comment="(comment)")
        except WorkflowError:
            continue
        out.append(action)
    try:
        check_edit(actor, versions)
    except WorkflowError:
        pass
    else:
        out.insert(0, Action.edit)
    return out

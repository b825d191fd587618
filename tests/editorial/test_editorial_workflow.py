"""The pure workflow: every transition, who may take it, and why others are refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from allguide.accounts import Role
from allguide.editorial import (
    Action,
    Conflict,
    Forbidden,
    InvalidContent,
    Status,
    VersionState,
    allowed_actions,
    check_edit,
    check_transition,
)


@dataclass(frozen=True)
class Person:
    username: str
    role: Role


ALICE = Person("alice", Role.author)
AMY = Person("amy", Role.author)
BOB = Person("bob", Role.reviewer)
ADA = Person("ada", Role.admin)


def v(status: Status, author: str = "alice", **kw: object) -> VersionState:
    return VersionState(number=2, status=status, author=author, **kw)  # type: ignore[arg-type]


def test_happy_path() -> None:
    assert check_transition(Action.submit, v(Status.draft), ALICE) == Status.submitted
    submitted = v(Status.submitted, submitted_by="alice")
    assert check_transition(Action.approve, submitted, BOB) == Status.approved
    assert check_transition(Action.reject, submitted, BOB, comment="cite it") == Status.rejected
    served = v(Status.approved, served=True)
    assert check_transition(Action.retire, served, BOB, comment="outdated") == Status.retired


@pytest.mark.parametrize(
    ("action", "state", "actor", "error", "words"),
    [
        # reviewer must not be the author, nor the submitter; admins included
        (Action.approve, v(Status.submitted), Person("alice", Role.admin), Forbidden, "own work"),
        (Action.approve, v(Status.submitted, submitted_by="ada"), ADA, Forbidden, "submitted"),
        (Action.reject, v(Status.submitted), Person("alice", Role.admin), Forbidden, "own work"),
        # roles
        (Action.approve, v(Status.submitted), AMY, Forbidden, "only reviewers"),
        (Action.submit, v(Status.draft), BOB, Forbidden, "only authors"),
        (Action.submit, v(Status.draft), AMY, Forbidden, "written by alice"),
        (Action.retire, v(Status.approved, served=True), AMY, Forbidden, "only reviewers"),
        # states
        (Action.approve, v(Status.draft), BOB, Conflict, "it is draft, expected submitted"),
        (Action.submit, v(Status.submitted), ALICE, Conflict, "expected draft"),
        (Action.reject, v(Status.approved), BOB, Conflict, "expected submitted"),
        (Action.approve, v(Status.rejected), BOB, Conflict, "it is rejected"),
        (Action.retire, v(Status.approved), BOB, Conflict, "not served"),
        (Action.retire, v(Status.retired, served=True), BOB, Conflict, "it is retired"),
        (Action.submit, v(Status.superseded), ALICE, Conflict, "it is superseded"),
    ],
)
def test_refusals(
    action: Action, state: VersionState, actor: Person, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        check_transition(action, state, actor, comment="because")


@pytest.mark.parametrize("action", [Action.reject, Action.retire])
def test_reject_and_retire_need_a_comment(action: Action) -> None:
    state = v(Status.submitted if action == Action.reject else Status.approved, served=True)
    with pytest.raises(InvalidContent, match="needs a comment"):
        check_transition(action, state, BOB, comment="  ")


def test_imported_drafts_can_be_submitted_by_any_author() -> None:
    imported = VersionState(1, Status.draft, "system:import", served=True, imported=True)
    assert check_transition(Action.submit, imported, AMY) == Status.submitted


def test_edit_rules() -> None:
    served = VersionState(1, Status.approved, "system:import", served=True)
    assert check_edit(ALICE, [served]) is None
    with pytest.raises(Forbidden, match="only authors and admins edit"):
        check_edit(BOB, [served])
    draft = VersionState(2, Status.draft, "alice")
    assert check_edit(ALICE, [served, draft]) == draft  # own draft: replaced
    assert check_edit(ADA, [served, draft]) == draft  # admin may replace it
    with pytest.raises(Conflict, match="alice has an open draft"):
        check_edit(AMY, [served, draft])
    waiting = VersionState(2, Status.submitted, "alice")
    with pytest.raises(Conflict, match="awaiting review"):
        check_edit(ALICE, [served, waiting])
    rejected = VersionState(2, Status.rejected, "alice")
    assert check_edit(AMY, [served, rejected]) is None  # rejected -> anyone writes a new draft


def test_allowed_actions_for_buttons() -> None:
    served = VersionState(1, Status.approved, "x", served=True)
    draft = VersionState(2, Status.draft, "alice")
    assert allowed_actions(draft, ALICE, [served, draft]) == [Action.edit, Action.submit]
    assert allowed_actions(draft, BOB, [served, draft]) == []
    assert allowed_actions(served, BOB, [served]) == [Action.retire]

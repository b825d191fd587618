"""EditorialService: the workflow applied to stored content, with an audit entry per step.

The service never commits: the caller owns the transaction (`with db.session() as s:`),
so a refused step leaves nothing behind. Time comes from the injected clock.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allguide.editorial.workflow import (
    Action,
    Actor,
    Conflict,
    InvalidContent,
    NotFound,
    Status,
    VersionState,
    allowed_actions,
    check_edit,
    check_transition,
)
from allguide.knowledge.check import Problem, RequiredIds
from allguide.knowledge.schemas import ITEM_MODELS
from allguide.store.audit import AuditLog
from allguide.store.content import (
    ContentRepository,
    effective_data,
    engine_requirements,
    has_review,
    item_data,
    validate_item,
)
from allguide.store.db import utc_now
from allguide.store.records import ContentVersionRecord, ItemVersionRecord
from allguide.store.yaml_files import load_yaml_text, render_item

Clock = Callable[[], dt.datetime]

# Review fields the workflow owns: an author's edit never sets them.
_WORKFLOW_REVIEW_FIELDS = ("status", "reviewed_by", "reviewed_on", "last_updated")


def state_of(version: ItemVersionRecord) -> VersionState:
    return VersionState(
        number=version.number,
        status=Status(version.status),
        author=version.author,
        submitted_by=version.submitted_by,
        served=version.served,
        imported=version.imported,
    )


class EditorialService:
    def __init__(
        self,
        session: Session,
        *,
        clock: Clock = utc_now,
        required: RequiredIds | None = None,
    ) -> None:
        self.content = ContentRepository(session)
        self.audit = AuditLog(session)
        self.clock = clock
        self._required = required

    @property
    def required(self) -> RequiredIds:
        if self._required is None:
            self._required = engine_requirements()
        return self._required

    # ------------------------------------------------------------------ reading

    def history(self, kind: str, item_id: str) -> list[ItemVersionRecord]:
        """Every version of an item, oldest first."""
        versions = self.content.versions(kind, item_id)
        if not versions:
            raise NotFound(f"no content item {kind}/{item_id}")
        return versions

    def version(self, kind: str, item_id: str, number: int) -> ItemVersionRecord:
        version = self.content.get_version(kind, item_id, number)
        if version is None:
            raise NotFound(f"no version {number} of {kind}/{item_id}")
        return version

    def diff(self, v1: ItemVersionRecord, v2: ItemVersionRecord, *, context: int = 3) -> str:
        """Unified diff of the two versions' YAML ('' when they hold the same data)."""
        a = render_item(v1.kind, v1.data).splitlines(keepends=True)
        b = render_item(v2.kind, v2.data).splitlines(keepends=True)
        return "".join(difflib.unified_diff(a, b, v1.label, v2.label, n=context))

    def item_yaml(self, version: ItemVersionRecord) -> str:
        """A version as YAML, e.g. to prefill the editor."""
        return render_item(version.kind, version.data)

    def allowed_actions(self, actor: Actor, version: ItemVersionRecord) -> list[Action]:
        versions = self.content.versions(version.kind, version.item_id)
        return allowed_actions(state_of(version), actor, [state_of(v) for v in versions])

    def check_version(
        self, version: ItemVersionRecord, reviewer: str = "(reviewer)"
    ) -> list[Problem]:
        """Content-check errors that approving this version would add to the served pack."""
        now = self.clock()
        data = effective_data(
            version.kind, version.data, status="approved", reviewer=reviewer, reviewed_at=now
        )
        return self.content.errors_introduced_by(
            {(version.kind, version.item_id): data}, required=self.required, today=now.date()
        )

    # ------------------------------------------------------------------ writing

    def edit(
        self,
        actor: Actor,
        kind: str,
        item_id: str,
        data: Mapping[str, Any] | str,
        *,
        note: str | None = None,
    ) -> ItemVersionRecord:
        """Write a new draft version of an existing item (data as a dict or YAML text)."""
        self.content.lock(kind, item_id)
        versions = self.content.versions(kind, item_id)
        if not versions:
            raise NotFound(f"no content item {kind}/{item_id}")
        superseded = check_edit(actor, [state_of(v) for v in versions])
        clean = self._prepare(actor, kind, data, expected_id=item_id)
        latest = versions[-1]
        if _comparable(clean) == _comparable(latest.data):
            raise Conflict(f"nothing changed compared with version {latest.number}")
        now = self.clock()
        if superseded is not None:
            old = next(v for v in versions if v.number == superseded.number)
            self.content.set_status(old, Status.superseded)
        version = self.content.add_version(
            kind, item_id, clean, author=actor.username, now=now, note=note
        )
        details: dict[str, Any] = {"kind": kind, "item_id": item_id, "version": version.number}
        if superseded is not None:
            details["superseded"] = superseded.number
        if note:
            details["note"] = note
        self.audit.append(
            actor=actor.username,
            action="content.edit",
            target=version.label,
            details=details,
            now=now,
        )
        return version

    def create(
        self,
        actor: Actor,
        kind: str,
        data: Mapping[str, Any] | str,
        *,
        path: str | None = None,
        note: str | None = None,
    ) -> ItemVersionRecord:
        """A new item as version 1 (a draft: served only once approved)."""
        if kind not in ITEM_MODELS:
            raise InvalidContent(f"unknown content kind '{kind}'", sorted(ITEM_MODELS))
        check_edit(actor, [])
        clean = self._prepare(actor, kind, data, expected_id=None)
        item_id = str(clean["id"])
        if self.content.exists(kind, item_id):
            raise Conflict(f"{kind}/{item_id} already exists: edit it instead")
        path = path or self._default_path(kind, clean)
        parts = path.split("/")
        if not path.endswith(".yaml") or path.startswith("/") or {"..", "schemas"} & set(parts):
            raise InvalidContent(
                f"path '{path}': expected a relative .yaml path inside the content pack "
                "(not under schemas/)"
            )
        now = self.clock()
        try:
            self.content.create_item(kind, item_id, path, now=now)
        except IntegrityError:  # created at the same moment by someone else
            raise Conflict(f"{kind}/{item_id} already exists: edit it instead") from None
        except ValueError as exc:  # the file holds another kind
            raise InvalidContent(f"path '{path}': {exc}") from None
        version = self.content.add_version(
            kind, item_id, clean, author=actor.username, now=now, note=note
        )
        self.audit.append(
            actor=actor.username,
            action="content.create",
            target=version.label,
            details={"kind": kind, "item_id": item_id, "version": 1, "path": path},
            now=now,
        )
        return version

    def submit(self, actor: Actor, kind: str, item_id: str, number: int) -> ItemVersionRecord:
        self.content.lock(kind, item_id)
        version = self.version(kind, item_id, number)
        status = check_transition(Action.submit, state_of(version), actor)
        now = self.clock()
        updated = self.content.set_status(
            version, status, submitted_by=actor.username, submitted_at=now
        )
        self._log(actor, "content.submit", updated, now)
        return updated

    def approve(
        self, actor: Actor, kind: str, item_id: str, number: int, comment: str | None = None
    ) -> ContentVersionRecord:
        """Approve a submitted version: it becomes the served one; returns the new content
        version. Refused (InvalidContent, listing the problems) if the served pack would
        then fail `content check`."""
        self.content.lock(kind, item_id)
        version = self.version(kind, item_id, number)
        status = check_transition(Action.approve, state_of(version), actor, comment=comment)
        now = self.clock()
        served_data = effective_data(
            kind, version.data, status=status, reviewer=actor.username, reviewed_at=now
        )
        errors = self.content.errors_introduced_by(
            {(kind, item_id): served_data}, required=self.required, today=now.date()
        )
        if errors:
            raise InvalidContent(
                f"approving {version.label} would break the content pack ({len(errors)} error(s))",
                [str(p) for p in errors],
            )
        for other in self.content.versions(kind, item_id):
            if other.id != version.id and other.status in (Status.draft, Status.submitted):
                self.content.set_status(other, Status.superseded)
        updated = self.content.set_status(
            version, status, reviewer=actor.username, review_comment=comment, reviewed_at=now
        )
        content_version = self.content.publish(
            {(kind, item_id): version.id},
            now=now,
            actor=actor.username,
            note=f"approved {version.label}",
        )
        self._log(actor, "content.approve", updated, now, comment, content_version.digest)
        return content_version

    def reject(
        self, actor: Actor, kind: str, item_id: str, number: int, comment: str
    ) -> ItemVersionRecord:
        self.content.lock(kind, item_id)
        version = self.version(kind, item_id, number)
        status = check_transition(Action.reject, state_of(version), actor, comment=comment)
        now = self.clock()
        updated = self.content.set_status(
            version, status, reviewer=actor.username, review_comment=comment, reviewed_at=now
        )
        self._log(actor, "content.reject", updated, now, comment)
        return updated

    def retire(self, actor: Actor, kind: str, item_id: str, comment: str) -> ContentVersionRecord:
        """Stop serving an item (its versions stay in history); returns the new content
        version. Refused for items the engine uses, and when others still cite it."""
        self.content.lock(kind, item_id)
        served = self.content.served_version(kind, item_id)
        if served is None:
            if not self.content.exists(kind, item_id):
                raise NotFound(f"no content item {kind}/{item_id}")
            raise Conflict(f"{kind}/{item_id} is not served (already retired or never approved)")
        status = check_transition(Action.retire, state_of(served), actor, comment=comment)
        if item_id in getattr(self.required, kind, frozenset()):
            raise Conflict(
                f"the engine uses {kind}/{item_id}, so it cannot be retired; edit it instead"
            )
        now = self.clock()
        errors = self.content.errors_introduced_by(
            {(kind, item_id): None}, required=self.required, today=now.date()
        )
        if errors:
            raise InvalidContent(
                f"retiring {kind}/{item_id} would break the content pack ({len(errors)} error(s))",
                [str(p) for p in errors],
            )
        updated = self.content.set_status(
            served, status, reviewer=actor.username, review_comment=comment, reviewed_at=now
        )
        content_version = self.content.publish(
            {(kind, item_id): None}, now=now, actor=actor.username, note=f"retired {served.label}"
        )
        self._log(actor, "content.retire", updated, now, comment, content_version.digest)
        return content_version

    # ------------------------------------------------------------------ internals

    def _prepare(
        self,
        actor: Actor,
        kind: str,
        data: Mapping[str, Any] | str,
        *,
        expected_id: str | None,
    ) -> dict[str, Any]:
        """Parse and validate an author's item; stamp the draft's review block."""
        raw = _parse(data)
        if expected_id is not None and raw.get("id", expected_id) != expected_id:
            raise InvalidContent(
                f"id: '{raw.get('id')}' differs from the item being edited ('{expected_id}'); "
                "ids never change (create a new item instead)"
            )
        if expected_id is not None:
            raw.setdefault("id", expected_id)
        if has_review(kind):
            review = raw.get("review")
            review = dict(review) if isinstance(review, Mapping) else {}
            for key in _WORKFLOW_REVIEW_FIELDS:
                review.pop(key, None)
            review.setdefault("authored_by", actor.username)
            review.update(status=Status.draft.value, last_updated=self.clock().date().isoformat())
            raw["review"] = review
        try:
            item = validate_item(kind, raw)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in err['loc']) or '(item)'}: {err['msg']}"
                for err in exc.errors()
            ]
            raise InvalidContent(
                f"the {kind} item has {len(problems)} problem(s)", problems
            ) from None
        return item_data(item)

    def _default_path(self, kind: str, data: Mapping[str, Any]) -> str:
        topic = data.get("topic")
        if kind == "statements" and isinstance(topic, str):
            return f"statements/{topic}.yaml"
        paths = self.content.paths(kind)
        return paths[0] if paths else f"{kind}.yaml"

    def _log(
        self,
        actor: Actor,
        action: str,
        version: ItemVersionRecord,
        now: dt.datetime,
        comment: str | None = None,
        content_version: str | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "kind": version.kind,
            "item_id": version.item_id,
            "version": version.number,
            "status": version.status,
        }
        if comment:
            details["comment"] = comment
        if content_version:
            details["content_version"] = content_version
        self.audit.append(
            actor=actor.username, action=action, target=version.label, details=details, now=now
        )


def _parse(data: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(data, str):
        try:
            loaded = load_yaml_text(data)
        except yaml.YAMLError as exc:
            raise InvalidContent("not valid YAML", [str(exc)]) from None
    else:
        loaded = data
    if not isinstance(loaded, Mapping):
        raise InvalidContent("an item must be a mapping of field names to values")
    return dict(loaded)


def _comparable(data: Mapping[str, Any]) -> dict[str, Any]:
    """Data without the workflow-owned review fields, to spot edits that change nothing."""
    out = dict(data)
    if isinstance(out.get("review"), Mapping):
        out["review"] = {k: v for k, v in out["review"].items() if k not in _WORKFLOW_REVIEW_FIELDS}
    return out

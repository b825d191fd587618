"""EditorialService on a real database (SQLite and PostgreSQL): drafts are never served
until approved, reviewers never review their own work, every step is audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from editorial_clock import Clock
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from allguide.cli.common import run_check
from allguide.editorial import Conflict, EditorialService, Forbidden, InvalidContent, NotFound
from allguide.knowledge.check import RequiredIds
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR
from allguide.store import AuditLog, ContentRepository, Database, UserRecord

STMT = "stmt.mrd.end_of_induction"
NEW_TEXT = "End-of-induction MRD is the strongest predictor of relapse (re-worded for the test)."


def _served_text(db: Database) -> str:
    with db.session() as s:
        return str(ContentRepository(s).served_pack().statements[STMT].clinician_text)


def _draft(db: Database, clock: Clock, author: UserRecord, text: str = NEW_TEXT) -> int:
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        data = dict(service.history("statements", STMT)[-1].data)
        data["clinician_text"] = text
        return service.edit(author, "statements", STMT, data, note="clearer wording").number


def test_edit_submit_approve_switches_served_text_and_content_version(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    alice, bob = users["alice"], users["bob"]
    old_text = _served_text(db)
    with db.session() as s:
        before = ContentRepository(s).current_version()
    assert before is not None

    number = _draft(db, clock, alice)
    assert number == 2
    assert _served_text(db) == old_text  # the draft is not served

    clock.tick()
    with db.session() as s:
        EditorialService(s, clock=clock).submit(alice, "statements", STMT, number)
    assert _served_text(db) == old_text  # nor while it waits for review

    clock.tick()
    with db.session() as s:
        new = EditorialService(s, clock=clock).approve(
            bob, "statements", STMT, number, comment="checked against the ELN source"
        )
    assert new.digest != before.digest and new.id > before.id
    assert _served_text(db) == NEW_TEXT
    with db.session() as s:
        repo = ContentRepository(s)
        assert repo.current_version() == new
        served = repo.served_pack().statements[STMT]
        # The approval is stamped on the served item; the stored draft is unchanged.
        assert served.review.status == "approved" and served.review.reviewed_by == "bob"
        assert served.review.reviewed_on == clock.now.date()
        assert served.review.authored_by == "allguide content team (AI-assisted draft)"
        history = repo.versions("statements", STMT)
        assert [(v.number, v.status, v.served) for v in history] == [
            (1, "superseded", False),  # the imported draft was never approved
            (2, "approved", True),
        ]
        assert history[1].data["review"]["status"] == "draft"
        assert (history[1].reviewer, history[1].submitted_by) == ("bob", "alice")
        # The previous content version still gives the old pack (for permalinks).
        assert repo.pack_for_version(before.digest).statements[STMT].clinician_text == old_text
        entries = AuditLog(s).entries(target=f"statements/{STMT}")
        assert [(e.action, e.actor) for e in reversed(entries)] == [
            ("content.edit", "alice"),
            ("content.submit", "alice"),
            ("content.approve", "bob"),
        ]
        assert entries[0].details["content_version"] == new.digest
        assert AuditLog(s).verify() == (True, None)


def test_reviewer_who_is_the_author_is_refused(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    ada = users["ada"]  # an admin may write and submit, but not approve their own work
    number = _draft(db, clock, ada)
    with db.session() as s:
        EditorialService(s, clock=clock).submit(ada, "statements", STMT, number)
    with pytest.raises(Forbidden, match="must not review their own work"), db.session() as s:
        EditorialService(s, clock=clock).approve(ada, "statements", STMT, number)
    with db.session() as s:
        assert ContentRepository(s).get_version("statements", STMT, number).status == "submitted"  # type: ignore[union-attr]
        assert [e.action for e in AuditLog(s).entries()] == ["content.submit", "content.edit"]


def test_reject_then_new_draft(db: Database, clock: Clock, users: dict[str, UserRecord]) -> None:
    alice, rita = users["alice"], users["rita"]
    number = _draft(db, clock, alice)
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        service.submit(alice, "statements", STMT, number)
        with pytest.raises(InvalidContent, match="needs a comment"):
            service.reject(rita, "statements", STMT, number, comment="")
        rejected = service.reject(rita, "statements", STMT, number, comment="cite COG data")
    assert rejected.status == "rejected" and rejected.review_comment == "cite COG data"
    assert _served_text(db) != NEW_TEXT
    again = _draft(db, clock, alice, NEW_TEXT + " Now cited.")  # rejected -> new draft
    assert again == number + 1


def test_retire_removes_from_served_pack_but_keeps_history(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    bob = users["bob"]
    with db.session() as s:
        target = _unused_glossary_entry(ContentRepository(s))
        new = EditorialService(s, clock=clock).retire(
            bob, "glossary", target, comment="duplicate of the trials article"
        )
    with db.session() as s:
        repo = ContentRepository(s)
        assert target not in repo.served_pack().glossary
        assert repo.current_version() == new
        assert [(v.status, v.served) for v in repo.versions("glossary", target)] == [
            ("retired", False)
        ]
        (summary,) = [x for x in repo.items("glossary") if x.item_id == target]
        assert summary.retired
        with pytest.raises(Conflict, match="not served"):
            EditorialService(s, clock=clock).retire(bob, "glossary", target, comment="again")


def _unused_glossary_entry(repo: ContentRepository) -> str:
    """A served glossary entry nothing else refers to (content changes over time)."""
    for item_id in repo.served_pack().glossary:
        if not repo.check_candidate({("glossary", item_id): None}).errors:
            return item_id
    raise AssertionError("every glossary entry is referenced")


def test_retire_refuses_what_the_engine_or_other_items_need(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    bob = users["bob"]
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        with pytest.raises(Conflict, match=r"the engine uses statements/stmt\.overview\.backbone"):
            service.retire(bob, "statements", "stmt.overview.backbone", comment="x")
        cited = next(iter(ContentRepository(s).served_pack().statements[STMT].citations))
        with pytest.raises(InvalidContent) as err:
            service.retire(bob, "references", cited, comment="x")
    assert any(f"dangling citation '{cited}'" in p for p in err.value.problems)
    with db.session() as s:
        assert AuditLog(s).entries() == []


def test_approval_refused_when_the_pack_would_break(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    alice, bob = users["alice"], users["bob"]
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        data = dict(service.history("statements", STMT)[-1].data)
        data["citations"] = ["ref.does-not-exist"]
        v = service.edit(alice, "statements", STMT, data)  # drafts may be imperfect
        service.submit(alice, "statements", STMT, v.number)
        assert any("ref.does-not-exist" in str(p) for p in service.check_version(v))
        with pytest.raises(InvalidContent, match="would break the content pack") as err:
            service.approve(bob, "statements", STMT, v.number)
    assert any("dangling citation 'ref.does-not-exist'" in p for p in err.value.problems)


def test_edit_validates_and_guards(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    alice, amy, bob = users["alice"], users["amy"], users["bob"]
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        current = service.history("statements", STMT)[-1]
        yaml_text = service.item_yaml(current)
        with pytest.raises(InvalidContent) as err:
            service.edit(alice, "statements", STMT, yaml_text.replace("citations:", "citation:"))
        assert any("citation" in p for p in err.value.problems)
        with pytest.raises(InvalidContent, match="ids never change"):
            service.edit(alice, "statements", STMT, {**current.data, "id": "stmt.mrd.other"})
        with pytest.raises(Conflict, match="nothing changed"):
            service.edit(alice, "statements", STMT, yaml_text)
        with pytest.raises(Forbidden, match="only authors and admins edit"):
            service.edit(bob, "statements", STMT, yaml_text + "keywords: [x]\n")
        with pytest.raises(NotFound):
            service.edit(alice, "statements", "stmt.mrd.nope", yaml_text)
        first = service.edit(alice, "statements", STMT, yaml_text + "keywords: [x]\n")
        with pytest.raises(Conflict, match="alice has an open draft"):
            service.edit(amy, "statements", STMT, yaml_text + "keywords: [y]\n")
        second = service.edit(alice, "statements", STMT, yaml_text + "keywords: [z]\n")
        assert [v.status for v in service.history("statements", STMT)] == [
            "draft",  # the imported version: still served, pending review
            "superseded",
            "draft",
        ]
        assert second.number == first.number + 1
        assert second.data["review"]["last_updated"] == clock.now.date().isoformat()


def test_history_diff(db: Database, clock: Clock, users: dict[str, UserRecord]) -> None:
    _draft(db, clock, users["alice"])
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        v1, v2 = service.history("statements", STMT)
        diff = service.diff(v1, v2)
    assert diff.startswith(f"--- statements/{STMT}@v1\n+++ statements/{STMT}@v2\n")
    assert f"\n+  {NEW_TEXT}\n" in diff  # the new text, as it appears in the item's YAML
    removed = [line for line in diff.splitlines() if line.startswith("-") and "MRD" in line]
    assert removed, diff
    assert service.diff(v1, v1) == ""


def test_create_new_item_is_served_only_after_approval(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    alice, bob = users["alice"], users["bob"]
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        template = service.history("glossary", "gloss.clinical-trial")[-1].data
        new = {
            "id": "gloss.test-term",
            "term": "Test term",
            "definition": "A word used only in this test. It means a test.",
            "citations": [],
            "review": {"authored_by": "alice"},
        }
        assert template["id"] != new["id"]
        with pytest.raises(InvalidContent, match="not under schemas"):
            service.create(alice, "glossary", new, path="schemas/glossary.yaml")
        with pytest.raises(InvalidContent, match="holds statements, not glossary"):
            service.create(alice, "glossary", new, path="statements/mrd.yaml")
        v = service.create(alice, "glossary", new)
        assert (v.number, v.status, v.served) == (1, "draft", False)
        assert "gloss.test-term" not in ContentRepository(s).served_pack().glossary
        service.submit(alice, "glossary", "gloss.test-term", 1)
        service.approve(bob, "glossary", "gloss.test-term", 1)
        pack = ContentRepository(s).served_pack()
    assert pack.glossary["gloss.test-term"].review.reviewed_by == "bob"
    assert list(pack.glossary)[-1] == "gloss.test-term"  # appended to its file


def test_export_after_approval_rewrites_only_the_edited_file(
    db: Database, clock: Clock, users: dict[str, UserRecord], tmp_path: Path
) -> None:
    alice, bob = users["alice"], users["bob"]
    number = _draft(db, clock, alice)
    with db.session() as s:
        service = EditorialService(s, clock=clock)
        service.submit(alice, "statements", STMT, number)
        new = service.approve(bob, "statements", STMT, number)
        result = ContentRepository(s).export(tmp_path)
    changed = [
        str(p.relative_to(tmp_path))
        for p in result.written
        if p.read_bytes() != (DEFAULT_CONTENT_DIR / p.relative_to(tmp_path)).read_bytes()
    ]
    assert changed == ["statements/mrd.yaml"]
    assert (tmp_path / "statements/mrd.yaml").read_text().startswith("# ")  # header kept
    report, exported = run_check(tmp_path)
    assert report.errors == []
    assert exported.version == result.content_version == new.digest
    assert exported.statements[STMT].clinician_text == NEW_TEXT
    assert exported.statements[STMT].review.reviewed_by == "bob"


def test_workflow_steps_on_one_item_are_serialised(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    """Two reviewers approving at once cannot both win: the second waits for the first's
    row lock (PostgreSQL), then finds the version already approved."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite has a single writer; row locks are a PostgreSQL matter")
    alice, bob, rita = users["alice"], users["bob"], users["rita"]
    number = _draft(db, clock, alice)
    with db.session() as s:
        EditorialService(s, clock=clock).submit(alice, "statements", STMT, number)
    with db.session() as first:
        EditorialService(first, clock=clock).approve(bob, "statements", STMT, number)
        with db.session() as second:  # while the first is not committed yet
            second.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                EditorialService(second, clock=clock).approve(rita, "statements", STMT, number)
            second.rollback()
    with db.session() as s, pytest.raises(Conflict, match="it is approved"):
        EditorialService(s, clock=clock).approve(rita, "statements", STMT, number)


def test_errors_already_in_the_served_pack_do_not_block_other_approvals(
    db: Database, clock: Clock, users: dict[str, UserRecord]
) -> None:
    """E.g. a newer allguide requires an item nobody has written yet: fixes elsewhere must
    still be approvable (only errors a change adds are refused)."""
    alice, bob = users["alice"], users["bob"]
    needs_more = RequiredIds(statements=frozenset({"stmt.mrd.not_written_yet"}))
    number = _draft(db, clock, alice)
    with db.session() as s:
        service = EditorialService(s, clock=clock, required=needs_more)
        service.submit(alice, "statements", STMT, number)
        baseline = ContentRepository(s).check_candidate({}, required=needs_more).errors
        assert [p.item_id for p in baseline] == ["stmt.mrd.not_written_yet"]
        service.approve(bob, "statements", STMT, number)
    assert _served_text(db) == NEW_TEXT

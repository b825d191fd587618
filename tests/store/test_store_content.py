"""Content in the database: first-start import, the served pack, snapshots and export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from allguide.cli import app
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentError, ContentPack, parse_pack
from allguide.knowledge.schemas import ITEM_MODELS
from allguide.store import AuditLog, ContentRepository, Database
from allguide.store.content import NoContentError
from allguide.store.models import ContentItem, ContentItemVersion

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)

KINDS = tuple(ITEM_MODELS)  # every content kind, including ones added later


def test_import_on_first_start_is_idempotent(empty_db: Database, pack: ContentPack) -> None:
    with empty_db.session() as s:
        first = ContentRepository(s).import_pack_if_empty(DEFAULT_CONTENT_DIR, now=T0)
    assert first is not None
    total = sum(len(getattr(pack, k)) for k in KINDS)
    assert first.item_count == total
    with empty_db.session() as s:
        repo = ContentRepository(s)
        assert repo.import_pack_if_empty(DEFAULT_CONTENT_DIR, now=T0) is None  # second start
        assert s.scalar(select(func.count()).select_from(ContentItem)) == total
        assert s.scalar(select(func.count()).select_from(ContentItemVersion)) == total
        assert [v.digest for v in repo.content_versions()] == [first.digest]


def test_import_keeps_file_review_status_and_serves_everything(db: Database) -> None:
    with db.session() as s:
        repo = ContentRepository(s)
        summaries = repo.items("statements")
        assert summaries and all(x.served_number == 1 for x in summaries)
        # Every statement in the files is a draft today: served, shown "pending review".
        assert {x.served_status for x in summaries} == {"draft"}
        v1 = repo.versions("statements", summaries[0].item_id)
        assert len(v1) == 1 and v1[0].imported and v1[0].served
        assert AuditLog(s).entries() == []  # importing is not an editorial act


def test_served_pack_equals_the_files(db: Database, pack: ContentPack) -> None:
    """Same items, same order, same content version as reading content/ directly."""
    with db.session() as s:
        served = ContentRepository(s).served_pack()
    assert served.version == pack.version
    for kind in KINDS:
        assert list(getattr(served, kind)) == list(getattr(pack, kind)), kind
        assert getattr(served, kind) == getattr(pack, kind), kind
    assert served.origins == pack.origins


def test_export_unchanged_pack_reproduces_the_files(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        result = ContentRepository(s).export(tmp_path)
    assert result.stale == []
    for path in result.written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (DEFAULT_CONTENT_DIR / rel).read_bytes(), rel
    assert parse_pack(tmp_path)[1] == result.content_version


def test_refuses_to_import_a_broken_pack(empty_db: Database, tmp_path: Path) -> None:
    bad = Path(__file__).resolve().parents[1] / "fixtures" / "bad_content"
    with pytest.raises(ContentError) as err, empty_db.session() as s:
        ContentRepository(s).import_pack_if_empty(bad, now=T0)
    assert any("dangling citation" in p for p in err.value.problems)
    with empty_db.session() as s:
        assert ContentRepository(s).is_empty()  # nothing half-imported


def test_served_pack_before_import_is_a_clear_error(empty_db: Database) -> None:
    with empty_db.session() as s, pytest.raises(NoContentError) as err:
        ContentRepository(s).served_pack()
    assert "no content yet" in err.value.problems[0]


def test_pack_for_unknown_version(db: Database) -> None:
    with db.session() as s, pytest.raises(KeyError, match="no content version 'nope'"):
        ContentRepository(s).pack_for_version("nope")


def test_content_export_cli_then_content_check_passes(
    seeded_database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "export"
    result = runner.invoke(
        app, ["content", "export", "--out", str(out), "--database-url", seeded_database_url]
    )
    assert result.exit_code == 0, result.output
    assert "content version" in result.output
    check = runner.invoke(app, ["content", "check", "--content", str(out), "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["errors"] == 0

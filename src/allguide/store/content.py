"""Versioned content in the database: import, served pack, snapshots, export.

Model
- Every content item (kind + id) has numbered, immutable versions. One of them may be
  *served* (`content_items.served_version_id`); the served versions form the pack that the
  engine, the web app and the API use.
- Every change of the served set creates a `content_versions` row: an immutable snapshot
  (the item-version ids) with a digest computed like `knowledge.loader.content_digest`
  over the files an export would write. Files that still hold exactly what was imported
  are written byte for byte, so a freshly imported database serves the same content
  version as the files on disk, and `content export` changes only edited files.
- A version approved through the editorial workflow is served with its `review` block
  stamped (status approved, reviewer, review date); its stored data is never changed.

The workflow rules live in `allguide.editorial`; this module only stores.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allguide.knowledge.check import CheckReport, Problem, RequiredIds, check_pack
from allguide.knowledge.loader import FileProblem, ParsedFile, content_digest, content_files
from allguide.knowledge.loader import parse_file as _parse_file
from allguide.knowledge.pack import ContentError, ContentPack, assemble
from allguide.knowledge.schemas import ITEM_MODELS, Item, ReviewStatus
from allguide.store.db import utc_now
from allguide.store.models import (
    ContentFile,
    ContentItem,
    ContentItemVersion,
    ContentVersion,
    ContentVersionItem,
)
from allguide.store.records import ContentVersionRecord, ItemSummary, ItemVersionRecord
from allguide.store.yaml_files import pack_digest, path_key, render_file, split_header

IMPORT_ACTOR = "system:import"

# File review status -> workflow status of the imported version.
_IMPORTED_STATUS = {
    ReviewStatus.draft: "draft",
    ReviewStatus.submitted: "submitted",
    ReviewStatus.under_review: "submitted",
    ReviewStatus.approved: "approved",
    ReviewStatus.retired: "retired",
}


def engine_requirements() -> RequiredIds:
    """Ids the engine needs (imported lazily: the CLI package imports this module)."""
    from allguide.cli.common import engine_requirements as required

    return required()


def has_review(kind: str) -> bool:
    return "review" in ITEM_MODELS[kind].model_fields


def effective_data(
    kind: str,
    data: Mapping[str, Any],
    *,
    status: str,
    reviewer: str | None,
    reviewed_at: dt.datetime | None,
) -> dict[str, Any]:
    """The item as served: a workflow approval is written into its `review` block."""
    out = dict(data)
    if status == "approved" and reviewer and reviewed_at and has_review(kind):
        review = dict(out.get("review") or {})
        review.update(
            status=ReviewStatus.approved.value,
            reviewed_by=reviewer,
            reviewed_on=reviewed_at.date().isoformat(),
        )
        out["review"] = review
    return out


def item_data(item: Item) -> dict[str, Any]:
    """How an item is stored: JSON-safe (decimals as strings), only the fields set."""
    return item.model_dump(mode="json", exclude_unset=True)


def validate_item(kind: str, data: Mapping[str, Any]) -> Item:
    """Validate against the content schema (raises pydantic.ValidationError)."""
    if kind not in ITEM_MODELS:
        raise ValueError(f"unknown content kind '{kind}'; expected one of {sorted(ITEM_MODELS)}")
    return ITEM_MODELS[kind].model_validate(dict(data))


class NoContentError(ContentError):
    """The database has no content yet (first start: call import_pack_if_empty)."""


@dataclass(frozen=True)
class _Entry:
    """One served item, ready to render or assemble."""

    kind: str
    item_id: str
    path: str
    position: int
    version_id: int
    data: dict[str, Any]  # effective (as served)
    pristine: bool  # imported and not approved in the app: the file text still applies


@dataclass(frozen=True)
class ExportResult:
    written: list[Path]
    # YAML files already in the target that the export did not write (would be read too).
    stale: list[Path]
    content_version: str


class _PackCache:
    """Packs by content version. A digest fixes the content, so sharing is safe."""

    def __init__(self, size: int = 8) -> None:
        self._packs: OrderedDict[str, ContentPack] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, digest: str) -> ContentPack | None:
        with self._lock:
            pack = self._packs.get(digest)
            if pack is not None:
                self._packs.move_to_end(digest)
            return pack

    def put(self, pack: ContentPack) -> None:
        with self._lock:
            self._packs[pack.version] = pack
            self._packs.move_to_end(pack.version)
            while len(self._packs) > self._size:
                self._packs.popitem(last=False)


_PACKS = _PackCache()
# Content-check errors of each served content version (usually none), by digest and
# engine requirements.
_BASELINE_ERRORS: dict[tuple[str, RequiredIds], frozenset[str]] = {}


class ContentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ first start

    def is_empty(self) -> bool:
        return self.session.scalar(select(func.count()).select_from(ContentItem)) == 0

    def import_pack_if_empty(
        self,
        content_dir: Path,
        *,
        now: dt.datetime | None = None,
        actor: str = IMPORT_ACTOR,
        required: RequiredIds | None = None,
    ) -> ContentVersionRecord | None:
        """Import every item from the files as version 1, served; None if already done.

        Each version keeps the review status its file gives (a draft stays "pending
        review"). Refuses (ContentError) a pack that `content check` would reject.
        """
        if not self.is_empty():
            return None
        now = now or utc_now()
        root = Path(content_dir)
        if not root.is_dir():
            raise ContentError([f"content directory not found: {root}"])
        paths = content_files(root)
        parsed = [_parse_file(p, root) for p in paths]
        version = content_digest(paths, root)
        report = check_pack(
            parsed, version, required=required or engine_requirements(), readability=True
        )
        if report.errors:
            raise ContentError([str(p) for p in report.errors])

        imported: list[tuple[ContentFile, str, list[ContentItemVersion]]] = []
        for path, pf in zip(paths, parsed, strict=True):
            text = path.read_bytes().decode("utf-8")
            file = ContentFile(path=pf.path, kind=pf.kind, header=split_header(text))
            self.session.add(file)
            versions: list[ContentItemVersion] = []
            for position, item in enumerate(pf.items):
                row = ContentItem(
                    kind=pf.kind, item_id=item.id, path=pf.path, position=position, created_at=now
                )
                review = getattr(item, "review", None)
                status = _IMPORTED_STATUS[review.status] if review is not None else "draft"
                version_row = ContentItemVersion(
                    item=row,
                    number=1,
                    data=item_data(item),
                    status=status,
                    author=actor,
                    created_at=now,
                    note=f"imported from {pf.path}",
                    imported=True,
                )
                self.session.add_all([row, version_row])
                versions.append(version_row)
            imported.append((file, text, versions))
        self.session.flush()  # one round of batched INSERTs gives every row its id
        for file, text, versions in imported:
            served = [v for v in versions if v.status != "retired"]
            for version_row in served:
                version_row.item.served_version_id = version_row.id
            if len(served) == len(versions):  # the file text holds exactly what is served
                file.original_text = text
                file.original_version_ids = [v.id for v in served]
        self.session.flush()
        return self._snapshot(now, actor, f"imported {len(paths)} files from {root}")

    # ------------------------------------------------------------------ content versions

    def current_version(self) -> ContentVersionRecord | None:
        """The newest snapshot: what is served now."""
        row = self.session.scalars(
            select(ContentVersion).order_by(ContentVersion.id.desc()).limit(1)
        ).first()
        return None if row is None else self._cv_record(row)

    def content_versions(self, limit: int = 50, offset: int = 0) -> list[ContentVersionRecord]:
        rows = self.session.scalars(
            select(ContentVersion).order_by(ContentVersion.id.desc()).limit(limit).offset(offset)
        )
        return [self._cv_record(r) for r in rows]

    def get_content_version(self, digest: str) -> ContentVersionRecord | None:
        row = self._cv_row(digest)
        return None if row is None else self._cv_record(row)

    def served_pack(self) -> ContentPack:
        """The pack being served, cached by content version."""
        current = self.session.scalar(
            select(ContentVersion.digest).order_by(ContentVersion.id.desc()).limit(1)
        )
        if current is None:
            raise NoContentError(
                ["the database holds no content yet: import the content pack first"]
            )
        return self.pack_for_version(current)

    def pack_for_version(self, version: str) -> ContentPack:
        """The pack exactly as served at content version `version` (its digest).

        Stored plans name this version, so a permalink can rebuild the same plan.
        """
        cached = _PACKS.get(version)
        if cached is not None:
            return cached
        row = self._cv_row(version)
        if row is None:
            raise KeyError(f"no content version '{version}' in this database")
        pack = self._assemble(self._entries(content_version_id=row.id), version)
        _PACKS.put(pack)
        return pack

    # ------------------------------------------------------------------ items and versions

    def items(self, kind: str | None = None) -> list[ItemSummary]:
        """Every item with its served and latest version, in pack order."""
        served = ContentItemVersion.__table__.alias("served")
        latest_no = (
            select(ContentItemVersion.item_pk, func.max(ContentItemVersion.number).label("number"))
            .group_by(ContentItemVersion.item_pk)
            .subquery()
        )
        stmt = (
            select(ContentItem, ContentItemVersion, served.c.number, served.c.status)
            .join(latest_no, latest_no.c.item_pk == ContentItem.id)
            .join(
                ContentItemVersion,
                (ContentItemVersion.item_pk == ContentItem.id)
                & (ContentItemVersion.number == latest_no.c.number),
            )
            .outerjoin(served, served.c.id == ContentItem.served_version_id)
        )
        if kind is not None:
            stmt = stmt.where(ContentItem.kind == kind)
        out = [
            ItemSummary(
                kind=item.kind,
                item_id=item.item_id,
                path=item.path,
                title=_title(latest.data, item.item_id),
                served_number=served_number,
                served_status=served_status,
                latest_number=latest.number,
                latest_status=latest.status,
                latest_author=latest.author,
                latest_created_at=latest.created_at,
            )
            for item, latest, served_number, served_status in self.session.execute(stmt)
        ]
        positions = {
            (k, i): (path_key(p), pos)
            for k, i, p, pos in self.session.execute(
                select(
                    ContentItem.kind, ContentItem.item_id, ContentItem.path, ContentItem.position
                )
            )
        }
        return sorted(out, key=lambda s: positions[(s.kind, s.item_id)])

    def lock(self, kind: str, item_id: str) -> bool:
        """Serialise workflow steps on one item until the transaction ends (PostgreSQL row
        lock; SQLite allows one writer at a time anyway). False for an unknown item."""
        item = self.session.scalars(
            select(ContentItem)
            .where(ContentItem.kind == kind, ContentItem.item_id == item_id)
            .with_for_update()
        ).first()
        return item is not None

    def exists(self, kind: str, item_id: str) -> bool:
        return self._item(kind, item_id) is not None

    def item_path(self, kind: str, item_id: str) -> str | None:
        item = self._item(kind, item_id)
        return None if item is None else item.path

    def versions(self, kind: str, item_id: str) -> list[ItemVersionRecord]:
        """Every version of an item, oldest first (empty for an unknown item)."""
        item = self._item(kind, item_id)
        if item is None:
            return []
        rows = self.session.scalars(
            select(ContentItemVersion)
            .where(ContentItemVersion.item_pk == item.id)
            .order_by(ContentItemVersion.number)
        )
        return [self._record(item, v) for v in rows]

    def get_version(self, kind: str, item_id: str, number: int) -> ItemVersionRecord | None:
        item = self._item(kind, item_id)
        if item is None:
            return None
        row = self.session.scalars(
            select(ContentItemVersion).where(
                ContentItemVersion.item_pk == item.id, ContentItemVersion.number == number
            )
        ).first()
        return None if row is None else self._record(item, row)

    def served_version(self, kind: str, item_id: str) -> ItemVersionRecord | None:
        item = self._item(kind, item_id)
        if item is None or item.served_version_id is None:
            return None
        row = self.session.get(ContentItemVersion, item.served_version_id)
        return None if row is None else self._record(item, row)

    def paths(self, kind: str) -> list[str]:
        """Files holding items of `kind`, most used first."""
        rows = self.session.execute(
            select(ContentItem.path, func.count())
            .where(ContentItem.kind == kind)
            .group_by(ContentItem.path)
            .order_by(func.count().desc(), ContentItem.path)
        )
        return [path for path, _ in rows]

    # ------------------------------------------------------------------ writing

    def create_item(self, kind: str, item_id: str, path: str, *, now: dt.datetime) -> None:
        """A new, not yet served item at the end of `path` (created if new)."""
        if kind not in ITEM_MODELS:
            raise ValueError(f"unknown content kind '{kind}'")
        file = self.session.get(ContentFile, path)
        if file is None:
            self.session.add(ContentFile(path=path, kind=kind, header=""))
        elif file.kind != kind:
            raise ValueError(f"{path} holds {file.kind}, not {kind}")
        position = self.session.scalar(
            select(func.coalesce(func.max(ContentItem.position) + 1, 0)).where(
                ContentItem.path == path
            )
        )
        self.session.add(
            ContentItem(
                kind=kind, item_id=item_id, path=path, position=int(position or 0), created_at=now
            )
        )
        self.session.flush()

    def add_version(
        self,
        kind: str,
        item_id: str,
        data: Mapping[str, Any],
        *,
        author: str,
        now: dt.datetime,
        note: str | None = None,
    ) -> ItemVersionRecord:
        """Store a new draft version (data must already be validated)."""
        item = self._require_item(kind, item_id)
        number = self.session.scalar(
            select(func.coalesce(func.max(ContentItemVersion.number), 0)).where(
                ContentItemVersion.item_pk == item.id
            )
        )
        row = ContentItemVersion(
            item_pk=item.id,
            number=int(number or 0) + 1,
            data=dict(data),
            status="draft",
            author=author,
            created_at=now,
            note=note,
            imported=False,
        )
        self.session.add(row)
        self.session.flush()
        return self._record(item, row)

    def set_status(
        self,
        version: ItemVersionRecord,
        status: str,
        *,
        submitted_by: str | None = None,
        submitted_at: dt.datetime | None = None,
        reviewer: str | None = None,
        review_comment: str | None = None,
        reviewed_at: dt.datetime | None = None,
    ) -> ItemVersionRecord:
        """Record a workflow step on a version (its data never changes)."""
        row = self.session.get(ContentItemVersion, version.id)
        if row is None:
            raise KeyError(version.label)
        row.status = status
        if submitted_by is not None:
            row.submitted_by, row.submitted_at = submitted_by, submitted_at
        if reviewer is not None:
            row.reviewer, row.review_comment, row.reviewed_at = (
                reviewer,
                review_comment,
                reviewed_at,
            )
        self.session.flush()
        return self._record(row.item, row)

    def publish(
        self,
        changes: Mapping[tuple[str, str], int | None],
        *,
        now: dt.datetime,
        actor: str,
        note: str | None = None,
    ) -> ContentVersionRecord:
        """Point items at new served versions (None = stop serving) and snapshot the pack."""
        for (kind, item_id), version_id in changes.items():
            self._require_item(kind, item_id).served_version_id = version_id
        self.session.flush()
        return self._snapshot(now, actor, note)

    def check_candidate(
        self,
        changes: Mapping[tuple[str, str], Mapping[str, Any] | None],
        *,
        required: RequiredIds | None = None,
        today: dt.date | None = None,
    ) -> CheckReport:
        """`content check` of the served pack with some items replaced (None = removed).

        Items named in `changes` that are not served yet are added at their place.
        """
        entries = {(e.kind, e.item_id): e for e in self._entries()}
        for (kind, item_id), data in changes.items():
            if data is None:
                entries.pop((kind, item_id), None)
                continue
            item = self._require_item(kind, item_id)
            entries[(kind, item_id)] = _Entry(
                kind, item_id, item.path, item.position, -1, dict(data), pristine=False
            )
        parsed = _parsed_files(entries.values())
        return check_pack(
            parsed,
            "candidate",
            required=required or engine_requirements(),
            today=today,
            readability=True,
        )

    def errors_introduced_by(
        self,
        changes: Mapping[tuple[str, str], Mapping[str, Any] | None],
        *,
        required: RequiredIds | None = None,
        today: dt.date | None = None,
    ) -> list[Problem]:
        """Content-check errors the change would add to the served pack.

        Errors the served pack already has do not count: otherwise two broken items
        (say, after a stricter check ships) could each block approving the other's fix.
        """
        required = required or engine_requirements()
        current = self.current_version()
        key = (current.digest, required) if current else None
        baseline = _BASELINE_ERRORS.get(key) if key else None
        if baseline is None:
            report = self.check_candidate({}, required=required)
            baseline = frozenset(str(p) for p in report.errors)
            if key is not None:
                if len(_BASELINE_ERRORS) > 64:  # old versions are rarely asked again
                    _BASELINE_ERRORS.clear()
                _BASELINE_ERRORS[key] = baseline
        candidate = self.check_candidate(changes, required=required, today=today)
        return [p for p in candidate.errors if str(p) not in baseline]

    # ------------------------------------------------------------------ export

    def served_files(self) -> dict[str, str]:
        """{relative path: YAML text} of the served pack, as `content export` writes it."""
        return self._render(self._entries())

    def export(self, out_dir: Path) -> ExportResult:
        """Write the served pack as YAML files in the layout of `content/`."""
        files = self.served_files()
        out = Path(out_dir)
        written = []
        for rel, text in sorted(files.items(), key=lambda kv: path_key(kv[0])):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            written.append(target)
        stale = [p for p in content_files(out) if str(p.relative_to(out)) not in files]
        return ExportResult(written, stale, pack_digest(files))

    # ------------------------------------------------------------------ internals

    def _item(self, kind: str, item_id: str) -> ContentItem | None:
        return self.session.scalars(
            select(ContentItem).where(ContentItem.kind == kind, ContentItem.item_id == item_id)
        ).first()

    def _require_item(self, kind: str, item_id: str) -> ContentItem:
        item = self._item(kind, item_id)
        if item is None:
            raise KeyError(f"no content item {kind}/{item_id}")
        return item

    def _cv_row(self, digest: str) -> ContentVersion | None:
        return self.session.scalars(
            select(ContentVersion)
            .where(ContentVersion.digest == digest)
            .order_by(ContentVersion.id.desc())
            .limit(1)
        ).first()

    def _cv_record(self, row: ContentVersion) -> ContentVersionRecord:
        count = self.session.scalar(
            select(func.count())
            .select_from(ContentVersionItem)
            .where(ContentVersionItem.content_version_id == row.id)
        )
        return ContentVersionRecord(
            row.id, row.digest, row.created_at, row.created_by, row.note, int(count or 0)
        )

    def _record(self, item: ContentItem, row: ContentItemVersion) -> ItemVersionRecord:
        return ItemVersionRecord(
            id=row.id,
            kind=item.kind,
            item_id=item.item_id,
            number=row.number,
            data=dict(row.data),
            status=row.status,
            author=row.author,
            created_at=row.created_at,
            note=row.note,
            imported=row.imported,
            submitted_by=row.submitted_by,
            submitted_at=row.submitted_at,
            reviewer=row.reviewer,
            review_comment=row.review_comment,
            reviewed_at=row.reviewed_at,
            served=item.served_version_id == row.id,
        )

    def _entries(self, content_version_id: int | None = None) -> list[_Entry]:
        """Served items (now, or in a snapshot), in pack order."""
        stmt = select(
            ContentItem.kind,
            ContentItem.item_id,
            ContentItem.path,
            ContentItem.position,
            ContentItemVersion,
        ).join(ContentItemVersion, ContentItemVersion.item_pk == ContentItem.id)
        if content_version_id is None:
            stmt = stmt.where(ContentItemVersion.id == ContentItem.served_version_id)
        else:
            stmt = stmt.join(
                ContentVersionItem, ContentVersionItem.item_version_id == ContentItemVersion.id
            ).where(ContentVersionItem.content_version_id == content_version_id)
        entries = [
            _Entry(
                kind,
                item_id,
                path,
                position,
                v.id,
                effective_data(
                    kind, v.data, status=v.status, reviewer=v.reviewer, reviewed_at=v.reviewed_at
                ),
                pristine=v.imported and not (v.status == "approved" and v.reviewer),
            )
            for kind, item_id, path, position, v in self.session.execute(stmt)
        ]
        return sorted(entries, key=lambda e: (path_key(e.path), e.position))

    def _render(self, entries: list[_Entry]) -> dict[str, str]:
        by_path: dict[str, list[_Entry]] = {}
        for e in entries:
            by_path.setdefault(e.path, []).append(e)
        meta = {
            f.path: f
            for f in self.session.scalars(
                select(ContentFile).where(ContentFile.path.in_(list(by_path)))
            )
        }
        files: dict[str, str] = {}
        for path, group in by_path.items():
            file = meta[path]
            ids = [e.version_id for e in group]
            if (
                file.original_text is not None
                and file.original_version_ids == ids
                and all(e.pristine for e in group)
            ):
                files[path] = file.original_text
            else:
                files[path] = render_file(file.kind, [e.data for e in group], file.header)
        return files

    def _snapshot(self, now: dt.datetime, actor: str, note: str | None) -> ContentVersionRecord:
        entries = self._entries()
        digest = pack_digest(self._render(entries))
        row = ContentVersion(digest=digest, created_at=now, created_by=actor, note=note)
        self.session.add(row)
        self.session.flush()
        self.session.add_all(
            ContentVersionItem(content_version_id=row.id, item_version_id=e.version_id)
            for e in entries
        )
        self.session.flush()
        if _PACKS.get(digest) is None:
            _PACKS.put(self._assemble(entries, digest))
        return ContentVersionRecord(row.id, digest, now, actor, note, len(entries))

    @staticmethod
    def _assemble(entries: list[_Entry], version: str) -> ContentPack:
        parsed = _parsed_files(entries)
        problems = [str(p) for pf in parsed for p in pf.problems]
        pack, duplicates = assemble(parsed, version)
        problems += [f"{path}: {msg}" for path, msg in duplicates]
        if problems:  # stored data was validated on the way in: this means a schema change
            raise ContentError(problems)
        return pack


def _parsed_files(entries: Iterable[_Entry]) -> list[ParsedFile]:
    """Entries -> ParsedFile objects in file order, validating each item like the loader."""
    files: dict[str, ParsedFile] = {}
    for e in sorted(entries, key=lambda e: (path_key(e.path), e.position)):
        pf = files.setdefault(e.path, ParsedFile(e.path, e.kind))
        try:
            pf.items.append(validate_item(e.kind, e.data))
        except ValidationError as exc:
            pf.problems.extend(
                FileProblem(
                    e.path, e.item_id, ".".join(str(p) for p in err["loc"]) or None, err["msg"]
                )
                for err in exc.errors()
            )
    return list(files.values())


def _title(data: Mapping[str, Any], fallback: str) -> str:
    for key in ("title", "term", "name", "label"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return fallback

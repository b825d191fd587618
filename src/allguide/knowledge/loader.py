"""Read the content pack from YAML files into validated models.

Each file's top-level key names its kind (`references`, `statements`, ...), so a kind may
be split over several files. YAML floats are read as `Decimal` so that a dose written
`1.5` is exactly 1.5, never a binary approximation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from allguide.knowledge.schemas import FILE_MODELS, ITEM_MODELS, Item

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DecimalLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loader that keeps decimal numbers exact."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


@dataclass(frozen=True)
class FileProblem:
    """One problem found in a content file, located as precisely as possible."""

    path: str
    item_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = " ".join(p for p in (self.item_id, f"[{self.field}]" if self.field else "") if p)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ParsedFile:
    """A content file: its valid items, and a problem for each invalid one."""

    path: str
    kind: str
    items: list[Item] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


def read_yaml(path: Path) -> Any:
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_DecimalLoader)


def parse_file(path: Path, root: Path) -> ParsedFile:
    """Parse one content file item by item, so one bad item never hides the others."""
    rel = str(path.relative_to(root))
    known = ", ".join(sorted(FILE_MODELS))
    try:
        data = read_yaml(path)
    except yaml.YAMLError as exc:
        return ParsedFile(rel, "?", [], [FileProblem(rel, None, None, f"not valid YAML: {exc}")])
    if not isinstance(data, dict) or len(data) != 1:
        msg = f"a content file must have exactly one top-level key, one of: {known}"
        return ParsedFile(rel, "?", [], [FileProblem(rel, None, None, msg)])
    kind = next(iter(data))
    item_model = ITEM_MODELS.get(kind)
    if item_model is None:
        msg = f"unknown top-level key '{kind}', expected one of: {known}"
        return ParsedFile(rel, kind, [], [FileProblem(rel, None, None, msg)])
    raw_items = data[kind]
    if not isinstance(raw_items, list):
        return ParsedFile(rel, kind, [], [FileProblem(rel, None, kind, "expected a list of items")])
    parsed = ParsedFile(rel, kind)
    for index, raw in enumerate(raw_items):
        try:
            parsed.items.append(item_model.model_validate(raw))
        except ValidationError as exc:
            parsed.problems.extend(_problems_from_validation(rel, raw, index, exc))
    return parsed


def _problems_from_validation(
    rel: str, raw: Any, index: int, exc: ValidationError
) -> list[FileProblem]:
    item_id = raw.get("id") if isinstance(raw, dict) else None
    label = str(item_id) if item_id else f"item #{index + 1}"
    return [
        FileProblem(rel, label, ".".join(str(p) for p in err["loc"]) or None, err["msg"])
        for err in exc.errors()
    ]


def content_files(root: Path) -> list[Path]:
    """All YAML content files under root, except the exported schemas."""
    return sorted(
        p
        for p in root.rglob("*.yaml")
        if "schemas" not in p.relative_to(root).parts and not p.name.startswith(".")
    )


def content_digest(paths: list[Path], root: Path) -> str:
    """Content version: a digest of every file's path and bytes."""
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]

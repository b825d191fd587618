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

from allguide.knowledge.schemas import FILE_MODELS, Strict

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
    path: str
    kind: str
    model: Strict | None
    problems: list[FileProblem] = field(default_factory=list)


def read_yaml(path: Path) -> Any:
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_DecimalLoader)


def parse_file(path: Path, root: Path) -> ParsedFile:
    """Parse one content file; schema problems are collected, never raised."""
    rel = str(path.relative_to(root))
    try:
        data = read_yaml(path)
    except yaml.YAMLError as exc:
        return ParsedFile(rel, "?", None, [FileProblem(rel, None, None, f"not valid YAML: {exc}")])
    if not isinstance(data, dict) or len(data) != 1:
        known = ", ".join(sorted(FILE_MODELS))
        msg = f"a content file must have exactly one top-level key, one of: {known}"
        return ParsedFile(rel, "?", None, [FileProblem(rel, None, None, msg)])
    kind = next(iter(data))
    model_cls = FILE_MODELS.get(kind)
    if model_cls is None:
        known = ", ".join(sorted(FILE_MODELS))
        msg = f"unknown top-level key '{kind}', expected one of: {known}"
        return ParsedFile(rel, kind, None, [FileProblem(rel, None, None, msg)])
    try:
        return ParsedFile(rel, kind, model_cls.model_validate(data))
    except ValidationError as exc:
        return ParsedFile(rel, kind, None, _problems_from_validation(rel, data, exc))


def _problems_from_validation(rel: str, data: Any, exc: ValidationError) -> list[FileProblem]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        item_id = None
        # loc looks like ('statements', 3, 'review', 'status'): name the item by its id.
        if len(loc) >= 2 and isinstance(loc[1], int):
            try:
                item = data[loc[0]][loc[1]]
                item_id = str(item.get("id") or item.get("term") or f"#{loc[1] + 1}")
            except (KeyError, IndexError, TypeError, AttributeError):
                item_id = f"#{loc[1] + 1}"
            loc = loc[2:]
        else:
            loc = loc[1:] if loc else loc
        field_path = ".".join(str(p) for p in loc) or None
        problems.append(FileProblem(rel, item_id, field_path, err["msg"]))
    return problems


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

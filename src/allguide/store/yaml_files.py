"""Content items back to YAML text, in the layout of `content/`, and the pack digest.

The digest follows `knowledge.loader.content_digest` exactly (sha256 over each file's
relative path and bytes, in file order), so a pack exported from the database has the
same content version when `allguide content check` reads it back from disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

import yaml

from allguide.knowledge.schemas import ITEM_MODELS

# PyYAML breaks a line at the first space past `WIDTH`: lines end near column 96, where
# the hand-written files wrap.
WIDTH = 88
_FOLD_OVER = 80  # prose longer than this is written folded (>-), wrapped
_FLOW_LIST_MAX = 90  # string lists shorter than this are written inline: [a, b, c]
_TOP_ITEM = re.compile(r"^  - ", re.MULTILINE)


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists (`  - id: ...`), as in the hand-written files."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    # Written as a plain number; the loader reads it back as the same Decimal.
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if "\n" in value:
        style = "|"
    elif len(value) > _FOLD_OVER and " " in value and value == value.strip() and "  " not in value:
        style = ">"  # long prose wraps like the hand-written files (>-)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    numbers = all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in value)
    strings = all(isinstance(v, str) for v in value)
    inline = numbers or (strings and sum(len(v) + 2 for v in value) < _FLOW_LIST_MAX)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=inline)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


class _PlainDumper(yaml.SafeDumper):
    """Fallback without folding, for the rare string PyYAML cannot fold faithfully."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_PlainDumper.add_representer(Decimal, _represent_decimal)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def item_python(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored JSON data -> plain Python values for YAML (Decimal numbers, dates), validated.

    Only fields the author set are kept, in the model's field order.
    """
    model = ITEM_MODELS[kind].model_validate(dict(data))
    return dict(_plain(model.model_dump(mode="python", exclude_unset=True)))


def load_yaml_text(text: str) -> Any:
    """Parse YAML exactly as content files are read (decimal numbers stay exact)."""
    from allguide.knowledge.loader import _DecimalLoader  # the loader's own number rules

    return yaml.load(text, Loader=_DecimalLoader)  # a SafeLoader subclass


def _dump(value: Any, dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(
        value, Dumper=dumper, sort_keys=False, allow_unicode=True, width=WIDTH, indent=2
    )


def _faithful_dump(value: Any) -> str:
    """Dump, then read back: fall back to plain scalars if folding changed any string."""
    text = _dump(value, _Dumper)
    if load_yaml_text(text) == value:
        return text
    text = _dump(value, _PlainDumper)
    if load_yaml_text(text) != value:  # pragma: no cover - would be a PyYAML bug
        raise ValueError("content cannot be written as YAML without changing it")
    return text


def render_item(kind: str, data: Mapping[str, Any]) -> str:
    """One item as YAML, for editors and version diffs."""
    return _faithful_dump(item_python(kind, data))


def render_file(kind: str, items: list[Mapping[str, Any]], header: str = "") -> str:
    """A whole content file: header comment, then `kind:` and its items."""
    body = _faithful_dump({kind: [item_python(kind, d) for d in items]})
    # A blank line between top-level items, as in the hand-written files.
    first = _TOP_ITEM.search(body)
    if first is not None:
        head, rest = body[: first.end()], body[first.end() :]
        body = head + _TOP_ITEM.sub("\n  - ", rest)
    return header + body


def split_header(text: str) -> str:
    """The leading comment block of a file (comment and blank lines before any data)."""
    lines = text.splitlines(keepends=True)
    header: list[str] = []
    for line in lines:
        if line.lstrip().startswith("#") or not line.strip():
            header.append(line)
        else:
            break
    return "".join(header)


def path_key(path: str) -> tuple[str, ...]:
    """Sort key matching `content_files` (sorted Path objects under one root)."""
    return PurePosixPath(path).parts


def pack_digest(files: Mapping[str, str]) -> str:
    """Content version of a set of files {relative path: text}; see loader.content_digest."""
    h = hashlib.sha256()
    for path in sorted(files, key=path_key):
        h.update(path.encode())
        h.update(b"\0")
        h.update(files[path].encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]

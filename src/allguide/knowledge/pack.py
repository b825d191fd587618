"""The content pack: every content item, indexed by id, plus its version.

A `ContentPack` is immutable plain data. The engine receives one as an argument (it
never reads files itself), so the same pack and input always give the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from allguide.knowledge.loader import ParsedFile, content_digest, content_files, parse_file
from allguide.knowledge.schemas import (
    ArticleOutline,
    Drug,
    GeneticTerm,
    GlossaryEntry,
    Reference,
    Regimen,
    Statement,
    Threshold,
)

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[3] / "content"


class ContentError(Exception):
    """The content pack cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} content problem(s)")
        self.problems = problems


@dataclass(frozen=True)
class ContentPack:
    version: str
    references: dict[str, Reference]
    statements: dict[str, Statement]
    drugs: dict[str, Drug]
    regimens: dict[str, Regimen]
    glossary: dict[str, GlossaryEntry]
    thresholds: dict[str, Threshold]
    genetics: dict[str, GeneticTerm]
    # Where each item came from, for error messages: id -> relative file path.
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Topic article outlines (content/articles/): ids of the items each article shows.
    articles: dict[str, ArticleOutline] = field(default_factory=dict)

    def threshold(self, threshold_id: str) -> Decimal:
        """Value of a cited threshold; a missing id is a content error, not a default."""
        try:
            return self.thresholds[threshold_id].value
        except KeyError:
            raise ContentError([f"threshold '{threshold_id}' is not in the content pack"]) from None

    def genetic_term(self, name: str) -> GeneticTerm | None:
        """Look a genetics term up by id or alias, ignoring case and separators."""
        return _genetics_index(self).get(_norm(name))


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_GENETICS_INDEX: dict[str, dict[str, GeneticTerm]] = {}


def _genetics_index(pack: ContentPack) -> dict[str, GeneticTerm]:
    index = _GENETICS_INDEX.get(pack.version)
    if index is None:
        index = {}
        for term in pack.genetics.values():
            for name in (term.id, term.label, *term.aliases):
                index.setdefault(_norm(name), term)
        _GENETICS_INDEX[pack.version] = index
    return index


def parse_pack(root: Path) -> tuple[list[ParsedFile], str]:
    files = content_files(root)
    return [parse_file(p, root) for p in files], content_digest(files, root)


def assemble(parsed: list[ParsedFile], version: str) -> tuple[ContentPack, list[tuple[str, str]]]:
    """Index parsed files by id. Returns the pack and (file, message) duplicate-id problems."""
    tables: dict[str, dict[str, object]] = {
        k: {}
        for k in (
            "references",
            "statements",
            "drugs",
            "regimens",
            "glossary",
            "thresholds",
            "genetics",
            "articles",
        )
    }
    origins: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    for pf in parsed:
        if pf.kind not in tables:
            continue
        table = tables[pf.kind]
        for item in pf.items:
            if item.id in table:
                duplicates.append(
                    (pf.path, f"{item.id}: duplicate id (also in {origins[pf.kind + item.id]})")
                )
                continue
            table[item.id] = item
            origins[pf.kind + item.id] = pf.path
    pack = ContentPack(
        version=version,
        origins=origins,
        **tables,  # type: ignore[arg-type]
    )
    return pack, duplicates

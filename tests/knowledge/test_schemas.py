"""The committed JSON Schemas are exactly what the pydantic models export."""

from __future__ import annotations

from pathlib import Path

from allguide.schemas_export import contract_documents, dump, schema_documents

ROOT = Path(__file__).resolve().parents[2]


def test_content_schemas_up_to_date() -> None:
    for name, schema in schema_documents().items():
        committed = ROOT / "content" / "schemas" / name
        assert committed.exists(), f"missing {committed}: run `make schemas`"
        assert committed.read_text(encoding="utf-8") == dump(schema), (
            f"{name} drifted: run `make schemas`"
        )


def test_contract_schemas_up_to_date() -> None:
    for name, schema in contract_documents().items():
        committed = ROOT / "docs" / name
        assert committed.read_text(encoding="utf-8") == dump(schema), (
            f"{name} drifted: run `make schemas`"
        )


def test_generated_docs_up_to_date(pack) -> None:  # type: ignore[no-untyped-def]
    from allguide.docsgen import generated_docs

    for name, text in generated_docs(pack).items():
        committed = ROOT / "docs" / name
        assert committed.read_text(encoding="utf-8") == text, f"{name} drifted: run `make schemas`"

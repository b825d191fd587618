"""Export JSON Schema for every content file kind and for the patient input.

`content/schemas/*.schema.json` and `docs/patient-input.schema.json` are generated from the
pydantic models; a test regenerates them and fails when the committed files differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allguide.ask.models import Answer, Article
from allguide.knowledge.schemas import FILE_MODELS
from allguide.patient.model import PatientInput
from allguide.planning.plan import Plan

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for content kinds (content/schemas) and contracts (docs)."""
    docs = {
        f"{kind}.schema.json": model.model_json_schema()
        for kind, model in sorted(FILE_MODELS.items())
    }
    return docs


def contract_documents() -> dict[str, dict[str, Any]]:
    return {
        "patient-input.schema.json": PatientInput.model_json_schema(),
        "plan-output.schema.json": Plan.model_json_schema(mode="serialization"),
        "ask-answer.schema.json": Answer.model_json_schema(mode="serialization"),
        "ask-article.schema.json": Article.model_json_schema(mode="serialization"),
    }


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(content_schema_dir: Path, docs_dir: Path = DOCS_DIR) -> list[Path]:
    written = []
    content_schema_dir.mkdir(parents=True, exist_ok=True)
    for name, schema in schema_documents().items():
        path = content_schema_dir / name
        path.write_text(dump(schema), encoding="utf-8")
        written.append(path)
    for name, schema in contract_documents().items():
        path = docs_dir / name
        path.write_text(dump(schema), encoding="utf-8")
        written.append(path)
    return written

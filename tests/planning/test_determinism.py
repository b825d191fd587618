"""Same input + same content version → byte-identical JSON; the core has no hidden inputs."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.planning.catalog import THRESHOLDS
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json

SRC = Path(__file__).resolve().parents[2] / "src" / "allguide"
CORE = ("knowledge", "patient", "risk", "dosing", "planning", "render")
PATIENT = {
    "age_years": 12,
    "sex": "male",
    "lineage": "B",
    "wbc_x10e9_per_l": 75,
    "bcr_abl1": "negative",
    "height_cm": 150,
    "weight_kg": 40,
    "cns_status": "CNS2",
}


def test_byte_identical_json(pack: ContentPack) -> None:
    start = dt.date(2026, 3, 2)
    a = plan_to_json(build_plan(parse_patient(PATIENT, pack), pack, start_date=start))
    b = plan_to_json(
        build_plan(parse_patient(dict(reversed(PATIENT.items())), pack), pack, start_date=start)
    )
    assert a == b


def test_input_digest_changes_with_input(pack: ContentPack) -> None:
    a = build_plan(parse_patient(PATIENT, pack), pack)
    b = build_plan(parse_patient({**PATIENT, "wbc_x10e9_per_l": 76}, pack), pack)
    assert a.input_digest != b.input_digest and a.content_version == b.content_version


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_web_db_or_clock() -> None:
    forbidden = {"fastapi", "starlette", "sqlalchemy", "httpx", "requests", "typer", "time"}
    for pkg in CORE:
        for path in (SRC / pkg).rglob("*.py"):
            bad = _imports(path) & forbidden
            assert not bad, f"{path} imports {bad}"
            text = path.read_text()
            assert ".now(" not in text and ".today(" not in text, f"{path} reads the clock"
            if pkg in ("dosing", "risk", "planning"):
                assert "float(" not in text, f"{path} uses float arithmetic"


def test_threshold_catalog_matches_code() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "threshold"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add(node.args[0].value)
    assert used == set(THRESHOLDS)

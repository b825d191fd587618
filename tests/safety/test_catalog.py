"""The rule catalog matches the code, the content pack and the generated docs."""

from __future__ import annotations

from pathlib import Path

from allguide.cli.common import engine_requirements
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import DrugGroup
from allguide.safety import ORDER_RULES, requirements
from allguide.safety.docs import FILE_NAME, order_checks_md
from allguide.safety.rules import RULE_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_has_exactly_one_function() -> None:
    assert set(RULE_FUNCTIONS) == set(ORDER_RULES)


def test_codes_are_unique_and_upper_snake_case() -> None:
    codes = [code for rule in ORDER_RULES.values() for code, _ in rule.codes]
    assert len(codes) == len(set(codes))
    assert all(c.replace("_", "").isalnum() and c.upper() == c for c in codes)


def test_the_declared_severity_is_the_highest_a_rule_reports() -> None:
    rank = {"critical": 0, "warning": 1, "info": 2}
    for rule in ORDER_RULES.values():
        assert all(rank[rule.severity] <= rank[s] for _, s in rule.codes), rule.id


def test_the_pack_holds_every_statement_threshold_and_drug_the_rules_use(
    pack: ContentPack,
) -> None:
    statements, thresholds, drugs = requirements()
    assert statements <= set(pack.statements)
    assert thresholds <= set(pack.thresholds)
    assert drugs <= set(pack.drugs)
    for rule in ORDER_RULES.values():
        stmt = pack.statements[rule.statement]
        assert stmt.topic == "order_safety" and stmt.citations


def test_content_check_requires_the_order_check_ids() -> None:
    statements, thresholds, drugs = requirements()
    required = engine_requirements()
    assert statements <= required.statements
    assert thresholds <= required.thresholds
    assert drugs <= required.drugs


def test_every_drug_group_has_members_and_anthracyclines_are_convertible(
    pack: ContentPack,
) -> None:
    for group in DrugGroup:
        assert any(group in d.groups for d in pack.drugs.values()), group
    factors = {
        d.id: d.doxorubicin_equivalence.factor
        for d in pack.drugs.values()
        if d.doxorubicin_equivalence is not None
    }
    assert factors["doxorubicin"] == 1
    assert 0 < factors["daunorubicin"] < 1
    for drug_id in factors:
        assert DrugGroup.anthracycline in pack.drugs[drug_id].groups


def test_generated_doc_is_up_to_date(pack: ContentPack) -> None:
    committed = (ROOT / "docs" / FILE_NAME).read_text(encoding="utf-8")
    assert committed == order_checks_md(pack), "docs/order-checks.md drifted: run `make schemas`"


def test_generated_doc_lists_every_rule_and_code(pack: ContentPack) -> None:
    text = order_checks_md(pack)
    for rule in ORDER_RULES.values():
        assert f"`{rule.id}`" in text
        for code, _ in rule.codes:
            assert f"`{code}`" in text


SAFETY_SRC = ROOT / "src" / "allguide" / "safety"


def _constant_calls(method_names: set[str]) -> set[str]:
    import ast

    used: set[str] = set()
    for path in SAFETY_SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in method_names
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add(node.args[0].value)
    return used


def test_thresholds_used_in_code_are_declared_in_the_catalog() -> None:
    declared = {t for rule in ORDER_RULES.values() for t in rule.thresholds}
    used = _constant_calls({"cutoff", "meets"})
    assert used <= declared
    rules_text = (SAFETY_SRC / "rules.py").read_text(encoding="utf-8")
    assert all(f'"{t}"' in rules_text for t in declared), "a declared threshold is unused"


def test_drugs_looked_up_by_id_are_declared_in_the_catalog() -> None:
    declared = {d for rule in ORDER_RULES.values() for d in rule.drugs}
    assert _constant_calls({"orders_of"}) <= declared


def test_the_safety_core_reads_no_clock_and_imports_no_shell() -> None:
    for path in SAFETY_SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".now(" not in text and ".today(" not in text, path
        assert "allguide.cli" not in text and "allguide.web" not in text, path
        assert "import typer" not in text and "import fastapi" not in text, path

"""The mapping table: well-formed, sourced, consistent with the content pack; docs in sync."""

from __future__ import annotations

from decimal import Decimal

from allguide.fhir.docs import DOC_PATH, mapping_md
from allguide.fhir.mapping import mapping_table, tidy
from allguide.knowledge.pack import ContentPack
from allguide.knowledge.schemas import DoseUnit, Route


def test_docs_fhir_mapping_up_to_date() -> None:
    assert DOC_PATH.exists(), "missing docs/fhir-mapping.md: run python -m allguide.fhir.docs"
    assert DOC_PATH.read_text(encoding="utf-8") == mapping_md(), (
        "docs/fhir-mapping.md drifted from src/allguide/fhir/mapping.yaml: "
        "run python -m allguide.fhir.docs"
    )


def test_every_code_has_a_display_and_a_source() -> None:
    t = mapping_table()
    refs = [
        *(c for q in t.quantities for c in q.codes),
        *t.conditions,
        *t.genetics.observation_codes,
        *t.genetics.component_codes,
        *t.genetics.present_codes,
        *t.medications,
    ]
    assert refs
    for ref in refs:
        assert ref.display.strip() and ref.source.strip(), ref
    for route in t.routes:
        assert route.display.strip() and route.source.strip(), route


def test_codes_are_unique_per_system() -> None:
    t = mapping_table()
    keys = [(c.system, c.code) for q in t.quantities for c in q.codes]
    keys += [(c.system, c.code) for c in t.conditions]
    assert len(keys) == len(set(keys))


def test_table_names_only_things_the_content_pack_has(pack: ContentPack) -> None:
    t = mapping_table()
    for cond in t.conditions:
        if cond.genetic:
            assert pack.genetic_term(cond.genetic) is not None, cond.genetic
    drugs = {*t.allergy.asparaginase_products, *(m.drug for m in t.medications)}
    assert drugs <= set(pack.drugs)
    assert set(t.allergy.ecoli_asparaginase_drugs) <= set(t.allergy.asparaginase_products)
    assert {r.route for r in t.routes} == set(Route)
    assert {u.unit for u in t.dose_units} == set(DoseUnit)


def test_unit_factors_are_the_definitions() -> None:
    t = mapping_table()
    weight = next(q for q in t.quantities if q.field == "weight_kg")
    lb = weight.unit_rule("[lb_av]", None)
    assert lb is not None and lb.factor == Decimal("0.45359237")
    height = next(q for q in t.quantities if q.field == "height_cm")
    inch = height.unit_rule(None, "in")
    assert inch is not None and inch.factor == Decimal("2.54")
    wbc = next(q for q in t.quantities if q.field == "wbc_x10e9_per_l")
    assert wbc.unit_rule("10*3/uL", None) is not None
    assert wbc.unit_rule("%", "%") is None
    assert wbc.unit_rule(None, None) is None  # no unit is never assumed


def test_tidy_never_uses_exponents() -> None:
    assert f"{tidy(Decimal('100.00')):f}" == "100"
    assert f"{tidy(Decimal('82.50')):f}" == "82.5"
    assert str(tidy(Decimal("1E+2"))) == "100"

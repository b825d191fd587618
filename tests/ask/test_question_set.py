"""The ask benchmark's question file is itself tested: schema, coverage of the phrasing mix,
and that it never demands a fact the content does not hold. One test runs the out-of-scope
questions and a sample of in-scope ones through the engine."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_ask.py"


def _load_bench() -> ModuleType:
    # benchmarks/ is not a package: load the runner by path so tests and benchmark share one
    # implementation of the matching and citation rules.
    spec = importlib.util.spec_from_file_location("bench_ask", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ask"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
RAW: dict[str, Any] = yaml.safe_load(bench.OWN_QUESTIONS.read_text(encoding="utf-8"))
QUESTIONS = bench.load_own_questions()


def test_question_file_has_no_schema_problems() -> None:
    assert bench.question_file_problems(RAW) == []


def test_schema_check_catches_broken_files() -> None:
    broken = {
        "questions": [
            {"id": "a", "question": "q?", "audience": "clinician", "in_scope": True,
             "key_facts": [["x"]], "notes": "n", "follow_up_of": "b"},
            {"id": "b", "question": "q?", "audience": "doctor", "in_scope": False,
             "key_facts": [["x"]], "notes": "n"},
            {"id": "b", "question": "", "audience": "patient", "in_scope": "yes",
             "key_facts": [["Upper"]], "notes": ""},
        ]
    }  # fmt: skip
    problems = "\n".join(bench.question_file_problems(broken))
    assert "a: follow_up_of 'b' is not an earlier question id" in problems
    assert "b: 'audience' must be one of" in problems
    assert "b: an out-of-scope question must have key_facts: []" in problems
    assert "b: duplicate id" in problems
    assert "'in_scope' must be true or false" in problems
    assert "'notes' must say why" in problems


def test_ids_are_unique_and_follow_ups_point_back() -> None:
    ids = [q.id for q in QUESTIONS]
    assert len(ids) == len(set(ids))
    position = {qid: n for n, qid in enumerate(ids)}
    for n, q in enumerate(QUESTIONS):
        if q.follow_up_of:
            assert position[q.follow_up_of] < n, q.id


def test_question_mix_is_broad_enough() -> None:
    in_scope = [q for q in QUESTIONS if q.in_scope]
    out_of_scope = [q for q in QUESTIONS if q.in_scope is False]
    assert len(QUESTIONS) >= 100
    assert len(out_of_scope) >= 20
    assert sum(q.audience == "patient" for q in QUESTIONS) >= 20
    assert sum(q.follow_up_of is not None for q in QUESTIONS) >= 5
    assert sum(q.patient is not None for q in QUESTIONS) >= 5
    assert all(2 <= len(q.key_facts) <= 4 for q in in_scope)
    assert all(q.key_facts == () for q in out_of_scope)


def test_expected_statements_exist(pack: ContentPack) -> None:
    unknown = [
        (q.id, sid) for q in QUESTIONS for sid in q.expect_statements if sid not in pack.statements
    ]
    assert unknown == []


def test_every_key_fact_is_in_the_content(pack: ContentPack) -> None:
    # Checked against the text of the question's audience: a patient answer is built from
    # plain-language texts, so a clinician-only number cannot be demanded of it.
    assert bench.facts_missing_from_content(QUESTIONS, pack) == []


def test_fact_check_rejects_facts_the_content_lacks(pack: ContentPack) -> None:
    fake = bench.Question(
        id="x", question="q", audience="patient", in_scope=True,
        key_facts=(("dexamethasone",), ("tisagenlecleucel",), ("6 mg/m",)),
    )  # fmt: skip
    missing = [fact for _, fact in bench.facts_missing_from_content([fake], pack)]
    # CAR-T is not in the content at all; the dose is clinician text only.
    assert missing == [("tisagenlecleucel",), ("6 mg/m",)]


def test_patient_contexts_are_valid_patient_input(pack: ContentPack) -> None:
    for q in QUESTIONS:
        if q.patient is not None:
            parse_patient(q.patient, pack)


def test_normalisation_reads_content_typography() -> None:
    text = bench.normalize("Dexamethasone 6 mg/m²/day, WBC ≥50 × 10⁹/L, days 1–28")
    assert "6 mg/m2/day" in text
    assert "50 x 109/l" in text
    assert "days 1-28" in text
    assert bench.fact_found(["10 mg/m", "dexamethasone 6"], text)
    assert not bench.fact_found(["prednisone"], text)


def test_public_set_has_a_decision_per_item(pack: ContentPack) -> None:
    if not bench.PUBLIC_SET.exists():
        pytest.skip(f"public smoke set not found at {bench.PUBLIC_SET}")
    uids = [json.loads(line)["uid"] for line in bench.PUBLIC_SET.read_text().splitlines() if line]
    keys = yaml.safe_load(bench.PUBLIC_KEYS.read_text(encoding="utf-8"))["items"]
    assert sorted(k["uid"] for k in keys) == sorted(uids)
    for k in keys:
        assert k["in_scope"] in (True, False, None), k["uid"]
        assert k["short"].strip() and k["notes"].strip(), k["uid"]
        assert k["in_scope"] is True or k["key_facts"] == [], k["uid"]
    public = bench.load_public_questions()
    assert bench.facts_missing_from_content(public, pack) == []


def test_citation_check_flags_bad_points(pack: ContentPack) -> None:
    stmt = pack.statements["stmt.overview.backbone"]
    other_ref = next(r for r in pack.references if r not in stmt.citations)
    answer = {
        "references": [
            {"n": 1, "id": stmt.citations[0]},
            {"n": 2, "id": other_ref},
        ],
        "sections": [
            {
                "points": [
                    {"text": "ok", "citations": [1], "statement_ids": [stmt.id]},
                    {"text": "uncited", "citations": [], "statement_ids": [stmt.id]},
                    {"text": "wrong ref", "citations": [2], "statement_ids": [stmt.id]},
                    {"text": "dangling", "citations": [7], "statement_ids": ["stmt.nope"]},
                ]
            }
        ],
    }
    uncited, problems = bench.citation_problems(answer, pack)
    assert uncited == 1
    text = "\n".join(problems)
    assert f"cites [2] {other_ref}" in text
    assert "citation [7] is not in the reference list" in text
    assert "'stmt.nope' is not in the pack" in text
    assert len(problems) == 3


def test_provenance_check_flags_text_not_from_content(pack: ContentPack) -> None:
    stmt = pack.statements["stmt.overview.backbone"]
    first_sentence = stmt.plain_text.split(". ")[0]
    answer = {
        "in_scope": True,
        "bottom_line": "Made-up summary.",
        "sections": [
            {
                "points": [
                    {"text": stmt.clinician_text, "statement_ids": [stmt.id]},
                    {"text": first_sentence, "statement_ids": [stmt.id]},
                    {"text": "Invented advice.", "statement_ids": [stmt.id]},
                ]
            }
        ],
    }
    problems = bench.provenance_problems(answer, pack)
    assert problems == [
        "point text is not from its items: 'Invented advice.'",
        "bottom line is not from the items used: 'Made-up summary.'",
    ]


def test_engine_refuses_out_of_scope_and_cites_every_point(pack: ContentPack, index: Any) -> None:
    """All out-of-scope questions plus 15 in-scope ones spread over the file (stand-alone
    questions only, so no conversation is needed): scope as expected, every point cited with
    its own items' references, every text taken from content."""
    from allguide.ask import answer_question

    standalone = [q for q in QUESTIONS if q.in_scope and q.follow_up_of is None]
    step = len(standalone) // 15
    sample = [q for q in QUESTIONS if q.in_scope is False] + standalone[::step][:15]
    failures: list[str] = []
    for q in sample:
        patient = parse_patient(q.patient, pack) if q.patient else None
        answer = answer_question(
            q.question, pack, audience=q.audience, patient=patient, index=index
        ).model_dump(mode="json")
        if answer["in_scope"] != q.in_scope:
            failures.append(f"{q.id}: in_scope={answer['in_scope']}, expected {q.in_scope}")
        uncited, wrong = bench.citation_problems(answer, pack)
        if uncited:
            failures.append(f"{q.id}: {uncited} points without citations")
        failures += [f"{q.id}: {p}" for p in wrong + bench.provenance_problems(answer, pack)]
    assert failures == []

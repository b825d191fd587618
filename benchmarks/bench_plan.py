"""Plan speed on 10,000 synthetic patients drawn from realistic distributions.

Targets (issue #2): median ≤ 1 ms and p99 ≤ 5 ms per plan on one core; content load
≤ 300 ms. Run: `make bench` (or `python benchmarks/bench_plan.py --patients 2000`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from decimal import Decimal
from typing import Any

from allguide.knowledge.check import check_pack
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, assemble, parse_pack
from allguide.patient.intake import parse_patient
from allguide.planning.engine import build_plan
from allguide.render.plan_json import plan_to_json

GENETICS = [
    "ETV6::RUNX1",
    "high_hyperdiploidy",
    "KMT2A_rearranged",
    "hypodiploidy",
    "iAMP21",
    "TCF3::PBX1",
    "Ph_like",
    "IKZF1_deletion",
    "complex_karyotype",
]


def synthetic_patient(rng: random.Random) -> dict[str, Any]:
    """Age mix roughly like incidence: mostly young children, a long adult tail."""
    band = rng.random()
    if band < 0.03:
        age = rng.uniform(0.05, 0.99)
    elif band < 0.60:
        age = rng.uniform(1, 17.9)
    elif band < 0.75:
        age = rng.uniform(18, 39.9)
    elif band < 0.90:
        age = rng.uniform(40, 64.9)
    else:
        age = rng.uniform(65, 85)
    height = 50 + min(age, 18) * 7 + rng.uniform(-8, 8) if age < 18 else rng.uniform(150, 195)
    weight = (
        max(3.0, (height - 100) * 0.9 + rng.uniform(-5, 10))
        if age >= 18
        else max(3.0, 3 + age * 3 + rng.uniform(-2, 4))
    )
    p: dict[str, Any] = {
        "age_years": Decimal(f"{age:.2f}"),
        "sex": rng.choice(["female", "male"]),
        "lineage": "T" if rng.random() < 0.15 else "B",
        "wbc_x10e9_per_l": Decimal(f"{rng.lognormvariate(2.8, 1.2):.1f}").min(Decimal(900)),
        "bcr_abl1": rng.choices(["negative", "positive", "unknown"], [0.8, 0.12, 0.08])[0],
        "cns_status": rng.choices(["CNS1", "CNS2", "CNS3"], [0.8, 0.15, 0.05])[0],
    }
    if rng.random() < 0.9:
        p["height_cm"] = Decimal(f"{height:.1f}")
        p["weight_kg"] = Decimal(f"{weight:.1f}")
    if rng.random() < 0.7:
        p["genetics"] = rng.sample(GENETICS, k=rng.choice([0, 1, 1, 2]))
    if age >= 18:
        p["fit_for_intensive"] = rng.random() < 0.8
    if rng.random() < 0.5:
        p["mrd"] = [
            {
                "timepoint": "end_of_induction",
                "value_percent": Decimal(f"{rng.choice([0.001, 0.005, 0.02, 0.3, 2]):g}"),
            }
        ]
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument(
        "--start-date",
        type=dt.date.fromisoformat,
        default=None,
        help="YYYY-MM-DD: also build the dated induction calendar (as the REST API does)",
    )
    args = ap.parse_args()
    start: dt.date | None = args.start_date

    t0 = time.perf_counter()
    parsed, version = parse_pack(DEFAULT_CONTENT_DIR)
    pack, _ = assemble(parsed, version)
    load_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    report = check_pack(parsed, version)
    check_ms = (time.perf_counter() - t0) * 1000
    assert not report.errors

    rng = random.Random(args.seed)
    patients = [parse_patient(synthetic_patient(rng), pack) for _ in range(args.patients)]
    build_plan(patients[0], pack, start_date=start)  # warm-up
    plan_ms: list[float] = []
    json_ms: list[float] = []
    for patient in patients:
        t0 = time.perf_counter()
        plan = build_plan(patient, pack, start_date=start)
        t1 = time.perf_counter()
        plan_to_json(plan)
        t2 = time.perf_counter()
        plan_ms.append((t1 - t0) * 1000)
        json_ms.append((t2 - t1) * 1000)
    total_ms = [a + b for a, b in zip(plan_ms, json_ms, strict=True)]
    q = statistics.quantiles(plan_ms, n=100)
    print(f"content load (parse + index): {load_ms:.0f} ms; full content check: {check_ms:.0f} ms")
    print(
        f"plans: {len(plan_ms)}; median {statistics.median(plan_ms):.2f} ms, "
        f"p99 {q[98]:.2f} ms, max {max(plan_ms):.2f} ms per plan"
    )
    print(
        f"JSON rendering: median {statistics.median(json_ms):.2f} ms, "
        f"p99 {statistics.quantiles(json_ms, n=100)[98]:.2f} ms"
    )
    print(
        f"plan + JSON ({'start date ' + start.isoformat() if start else 'no start date'}): "
        f"median {statistics.median(total_ms):.2f} ms, "
        f"p99 {statistics.quantiles(total_ms, n=100)[98]:.2f} ms"
    )


if __name__ == "__main__":
    main()

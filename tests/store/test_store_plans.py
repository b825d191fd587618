"""Stored plans and permalinks; conversations; CDS Hooks feedback."""

from __future__ import annotations

import datetime as dt
import json

from allguide.accounts import Role
from allguide.editorial import EditorialService
from allguide.knowledge.pack import ContentPack
from allguide.patient.intake import parse_patient
from allguide.planning.engine import ENGINE_VERSION, build_plan, input_digest
from allguide.render.plan_json import plan_to_json
from allguide.store import (
    ContentRepository,
    ConversationRepository,
    Database,
    FeedbackRepository,
    NewPlan,
    PlanRepository,
    UserRecord,
)

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
START = dt.date(2026, 1, 5)
PATIENT = {
    "age_years": 4,
    "sex": "female",
    "weight_kg": 16.5,
    "height_cm": 104,
    "lineage": "B",
    "wbc_x10e9_per_l": 12.4,
    "bcr_abl1": "negative",
    "genetics": ["ETV6::RUNX1"],
    "cns_status": "CNS1",
}


def _plan_json(raw: dict[str, object], pack: ContentPack) -> tuple[str, str]:
    patient = parse_patient(raw, pack)
    return input_digest(patient), plan_to_json(build_plan(patient, pack, start_date=START))


def _user(name: str, role: Role) -> UserRecord:
    return UserRecord(1, name, role, None, True, T0)


def test_save_many_stores_each_plan_in_order(db: Database) -> None:
    plans = [
        NewPlan({"wbc": 12, "age_years": n}, f"sha256:{n}", ENGINE_VERSION, "v1", f'{{"n":{n}}}')
        for n in range(3)
    ]
    with db.session() as s:
        ids = PlanRepository(s).save_many(
            [*plans[:2], NewPlan(**{**plans[2].__dict__, "created_by": "bob"})], T0
        )
    assert len(set(ids)) == 3
    with db.session() as s:
        records = [PlanRepository(s).get(i) for i in ids]
    assert [(r.input_digest, r.plan_json, r.created_by) for r in records if r] == [
        ("sha256:0", '{"n":0}', None),
        ("sha256:1", '{"n":1}', None),
        ("sha256:2", '{"n":2}', "bob"),
    ]
    assert records[1] is not None and records[1].created_at == T0
    assert json.loads(records[1].input_json) == {"age_years": 1, "wbc": 12}


def test_plan_round_trip_and_permalink_rerenders_identically(db: Database) -> None:
    stored_input = json.dumps({"patient": PATIENT, "start_date": START.isoformat()})
    with db.session() as s:
        pack = ContentRepository(s).served_pack()
        digest, plan_json = _plan_json(PATIENT, pack)
        plan_id = PlanRepository(s).save(
            stored_input, digest, ENGINE_VERSION, pack.version, plan_json, T0, "alice"
        )
    assert len(plan_id) == 16

    # Content changes after the plan was made: a statement the plan cites is re-worded.
    with db.session() as s:
        service = EditorialService(s, clock=lambda: T0)
        item = "stmt.overview.backbone"
        data = dict(ContentRepository(s).served_version("statements", item).data)  # type: ignore[union-attr]
        data["clinician_text"] += " (Edited after the plan was stored.)"
        v = service.edit(_user("alice", Role.author), "statements", item, data)
        service.submit(_user("alice", Role.author), "statements", item, v.number)
        new = service.approve(_user("bob", Role.reviewer), "statements", item, v.number)
    assert new.digest != pack.version

    with db.session() as s:
        record = PlanRepository(s).get(plan_id)
        assert record is not None
        assert (record.input_digest, record.content_version) == (digest, pack.version)
        assert record.created_at == T0 and record.created_by == "alice"
        assert PlanRepository(s).latest_for_digest(digest) == record
        stored = json.loads(record.input_json)
        old_pack = ContentRepository(s).pack_for_version(record.content_version)
        now_pack = ContentRepository(s).served_pack()
    _, rerendered = _plan_json(stored["patient"], old_pack)
    assert rerendered == record.plan_json == plan_json  # byte-identical permalink
    _, today = _plan_json(stored["patient"], now_pack)
    assert today != plan_json and "Edited after the plan was stored." in today
    with db.session() as s:
        assert PlanRepository(s).get("no-such-plan") is None


def test_conversations_save_load_and_purge(empty_db: Database) -> None:
    with empty_db.session() as s:
        repo = ConversationRepository(s)
        assert repo.load("c1") is None
        repo.save("c1", '{"turns": 1}', T0)
        repo.save("c1", '{"turns": 2}', T0 + dt.timedelta(minutes=5))
        repo.save("c2", '{"turns": 1}', T0 + dt.timedelta(days=40))
    with empty_db.session() as s:
        repo = ConversationRepository(s)
        assert repo.load("c1") == '{"turns": 2}'
        assert repo.purge_before(T0 + dt.timedelta(days=30)) == 1
        assert repo.load("c1") is None and repo.load("c2") is not None


def test_cds_feedback(empty_db: Database) -> None:
    with empty_db.session() as s:
        repo = FeedbackRepository(s)
        fid = repo.save(
            "allguide-order-check",
            "0f2b6c1e",
            "overridden",
            {"overrideReason": {"code": "patient-refused"}},
            T0,
        )
    with empty_db.session() as s:
        (record,) = FeedbackRepository(s).recent(service_id="allguide-order-check")
    assert record.id == fid and record.outcome == "overridden" and record.received_at == T0
    assert record.payload["overrideReason"]["code"] == "patient-refused"

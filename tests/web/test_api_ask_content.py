"""Answers, articles and the content browsers over the API."""

from __future__ import annotations

from web_support import CHILD, Api


def test_answer_then_follow_up_uses_the_stored_conversation(api: Api) -> None:
    first = api.client.post(
        "/api/v1/answers",
        json={"question": "What is induction therapy?", "audience": "clinician"},
    )
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["in_scope"] is True
    assert answer["references"] and answer["disclaimer"]
    conversation_id = answer["conversation_id"]
    assert conversation_id and answer["conversation"]["id"] == conversation_id
    assert len(answer["conversation"]["turns"]) == 1

    follow = api.client.post(
        "/api/v1/answers", json={"question": "why?", "conversation_id": conversation_id}
    )
    assert follow.status_code == 200, follow.text
    assert follow.json()["conversation_id"] == conversation_id
    assert len(follow.json()["conversation"]["turns"]) == 2
    assert follow.json()["retrieval"]["followup"] == "why"


def test_family_audience_gets_the_patient_version(api: Api) -> None:
    response = api.client.post(
        "/api/v1/answers", json={"question": "What is induction?", "audience": "family"}
    )
    assert response.status_code == 200
    assert response.json()["audience"] == "patient"


def test_answer_tailored_to_a_patient(api: Api) -> None:
    response = api.client.post(
        "/api/v1/answers",
        json={"question": "Which induction regimen?", "patient": CHILD},
    )
    assert response.status_code == 200
    assert response.json()["facets"]["sources"].get("population") == "patient"


def test_answer_errors(api: Api) -> None:
    unknown = api.client.post(
        "/api/v1/answers", json={"question": "why?", "conversation_id": "no-such-conversation"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"

    bad = api.client.post(
        "/api/v1/answers", json={"question": "", "audience": "martian", "extra": 1}
    )
    assert bad.status_code == 422
    fields = {f["field"] for f in bad.json()["error"]["fields"]}
    assert fields == {"question", "audience", "extra"}

    bad_patient = api.client.post(
        "/api/v1/answers", json={"question": "dose?", "patient": {"age_years": "old"}}
    )
    assert bad_patient.status_code == 422
    assert bad_patient.json()["error"]["fields"][0]["field"] == "patient.age_years"

    blank = api.client.post("/api/v1/answers", json={"question": "   "})
    assert blank.status_code == 422
    assert blank.json()["error"]["fields"][0]["field"] == "question"


def test_out_of_scope_question_is_declined_not_guessed(api: Api) -> None:
    response = api.client.post(
        "/api/v1/answers", json={"question": "How do I bake sourdough bread?"}
    )
    assert response.status_code == 200
    assert response.json()["in_scope"] is False


def test_articles(api: Api) -> None:
    listing = api.client.get("/api/v1/articles").json()
    assert listing["count"] >= 1
    topic = listing["items"][0]["id"]
    clinician = api.client.get(f"/api/v1/articles/{topic}")
    patient = api.client.get(f"/api/v1/articles/{topic}", params={"audience": "patient"})
    assert clinician.status_code == patient.status_code == 200
    assert clinician.json()["audience"] == "clinician"
    assert patient.json()["audience"] == "patient"
    assert clinician.json()["bottom_line"] != patient.json()["bottom_line"]
    missing = api.client.get("/api/v1/articles/no-such-topic")
    assert missing.status_code == 404
    bad_audience = api.client.get(f"/api/v1/articles/{topic}", params={"audience": "x"})
    assert bad_audience.status_code == 422
    assert bad_audience.json()["error"]["fields"][0]["field"] == "audience"


def test_statement_browser(api: Api) -> None:
    everything = api.client.get("/api/v1/statements").json()
    assert everything["count"] == len(everything["items"]) > 50
    induction = api.client.get("/api/v1/statements", params={"topic": "induction"}).json()
    assert 0 < induction["count"] < everything["count"]
    assert {s["topic"] for s in induction["items"]} == {"induction"}
    drafts = api.client.get("/api/v1/statements", params={"status": "draft"}).json()
    assert all(s["review"]["status"] == "draft" for s in drafts["items"])

    first = induction["items"][0]
    detail = api.client.get(f"/api/v1/statements/{first['id']}").json()
    assert detail["statement"]["id"] == first["id"]
    assert {r["id"] for r in detail["references"]} >= set(first["citations"])
    assert api.client.get("/api/v1/statements/stmt.nope.nope").status_code == 404
    assert api.client.get("/api/v1/statements", params={"status": "bogus"}).status_code == 422


def test_regimen_and_glossary_browsers(api: Api) -> None:
    regimens = api.client.get("/api/v1/regimens").json()
    assert regimens["count"] > 10
    some = regimens["items"][0]
    detail = api.client.get(f"/api/v1/regimens/{some['id']}")
    assert detail.status_code == 200
    assert detail.json()["regimen"]["review"]["status"]
    assert api.client.get("/api/v1/regimens/no-such-regimen").status_code == 404
    induction = api.client.get("/api/v1/regimens", params={"phase": "induction"}).json()
    assert all("induction" in r["phases"] for r in induction["items"])

    glossary = api.client.get("/api/v1/glossary").json()
    terms = [g["term"].lower() for g in glossary["items"]]
    assert terms == sorted(terms) and len(terms) > 10


def test_content_versions(api: Api) -> None:
    versions = api.client.get("/api/v1/content-versions").json()
    assert versions["items"][0]["current"] is True
    assert versions["items"][0]["digest"] == versions["content_version"]
    health = api.client.get("/health").json()
    assert health == {
        "status": "ok",
        "content_version": versions["content_version"],
        "engine_version": health["engine_version"],
        "database": "ok",
    }


def test_ping(api: Api) -> None:
    response = api.client.get("/api/v1/ping")
    assert response.json() == {"ok": True}
    assert response.headers["content-type"] == "application/json; charset=utf-8"

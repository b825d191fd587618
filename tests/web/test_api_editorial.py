"""The editorial workflow over the API: roles, two-person review, served text changes."""

from __future__ import annotations

import time
from typing import Any

from web_support import Api, running

from allguide.web.settings import Settings

STATEMENT = "stmt.overview.backbone"


def _item(api: Api, statement_id: str = STATEMENT) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/statements/{statement_id}")
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["statement"]
    return item


def _draft(api: Api, user: str, text: str) -> dict[str, Any]:
    item = _item(api)
    item["clinician_text"] = text
    response = api.client.post(
        f"/api/v1/editorial/items/statements/{STATEMENT}/drafts",
        json={"item": item, "comment": "clearer wording"},
        headers=api.auth(user),
    )
    assert response.status_code == 201, response.text
    version: dict[str, Any] = response.json()
    return version


def test_author_drafts_reviewer_approves_and_the_served_text_changes(fresh_api: Api) -> None:
    api = fresh_api
    before = _item(api)["clinician_text"]
    version_before = api.client.get("/health").json()["content_version"]
    new_text = before + " Reviewed wording for the API test."
    draft = _draft(api, "alice", new_text)
    assert draft["status"] == "draft" and draft["author"] == "alice"
    assert _item(api)["clinician_text"] == before  # the approved version is still served

    base = f"/api/v1/editorial/items/statements/{STATEMENT}/versions/{draft['number']}"
    submitted = api.client.post(f"{base}/submit", headers=api.auth("alice"))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"

    approved = api.client.post(
        f"{base}/approve", json={"comment": "checked against the source"}, headers=api.auth("bob")
    )
    assert approved.status_code == 200, approved.text
    new_version = approved.json()["content_version"]
    assert new_version != version_before
    assert approved.json()["version"]["reviewer"] == "bob"

    served = _item(api)
    assert served["clinician_text"] == new_text
    assert served["review"]["status"] == "approved"
    assert served["review"]["reviewed_by"] == "bob"
    assert api.client.get("/health").json()["content_version"] == new_version
    answer = api.client.post("/api/v1/answers", json={"question": "treatment backbone"}).json()
    assert answer["content_version"] == new_version

    history = api.client.get(
        f"/api/v1/editorial/items/statements/{STATEMENT}/history", headers=api.auth("dave")
    ).json()
    assert [v["status"] for v in history][-1] == "approved"

    audit = api.client.get(
        "/api/v1/audit", params={"target": f"statements/{STATEMENT}"}, headers=api.auth("bob")
    ).json()
    assert audit["chain_ok"] is True
    actions = [e["action"] for e in reversed(audit["items"])]
    assert actions[-3:] == ["content.edit", "content.submit", "content.approve"]
    assert [e["actor"] for e in reversed(audit["items"])][-3:] == ["alice", "alice", "bob"]


def test_reviewer_cannot_review_own_work(fresh_api: Api) -> None:
    api = fresh_api
    draft = _draft(api, "carol", "An admin's own wording that needs a second person.")
    base = f"/api/v1/editorial/items/statements/{STATEMENT}/versions/{draft['number']}"
    assert api.client.post(f"{base}/submit", headers=api.auth("carol")).status_code == 200
    own = api.client.post(f"{base}/approve", headers=api.auth("carol"))
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "forbidden"
    assert "own" in own.json()["error"]["message"]
    # wrong state: approving twice, or approving a draft that was never submitted
    assert api.client.post(f"{base}/approve", headers=api.auth("bob")).status_code == 200
    again = api.client.post(f"{base}/approve", headers=api.auth("bob"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_reject_needs_a_comment_and_returns_to_author(fresh_api: Api) -> None:
    api = fresh_api
    draft = _draft(api, "alice", "Wording the reviewer will send back.")
    base = f"/api/v1/editorial/items/statements/{STATEMENT}/versions/{draft['number']}"
    api.client.post(f"{base}/submit", headers=api.auth("alice"))
    no_comment = api.client.post(f"{base}/reject", headers=api.auth("bob"))
    assert no_comment.status_code == 422
    rejected = api.client.post(
        f"{base}/reject", json={"comment": "cite the trial"}, headers=api.auth("bob")
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"


def test_invalid_draft_is_422_listing_problems(fresh_api: Api) -> None:
    api = fresh_api
    item = _item(api)
    item["citations"] = []
    item["surprise"] = True
    response = api.client.post(
        f"/api/v1/editorial/items/statements/{STATEMENT}/drafts",
        json={"item": item},
        headers=api.auth("alice"),
    )
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert {"item.citations", "item.surprise"} <= fields


def test_authentication_and_roles(api: Api) -> None:
    url = f"/api/v1/editorial/items/statements/{STATEMENT}/drafts"
    anonymous = api.client.post(url, json={"item": {}})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "unauthorized"

    wrong = api.client.post(
        url, json={"item": {}}, headers={"Authorization": "Bearer agt_not-a-real-token-at-all"}
    )
    assert wrong.status_code == 401
    malformed = api.client.get("/api/v1/editorial/items", headers={"Authorization": "Basic x"})
    assert malformed.status_code == 401

    reviewer_edits = api.client.post(url, json={"item": _item(api)}, headers=api.auth("bob"))
    assert reviewer_edits.status_code == 403
    author_reads_audit = api.client.get("/api/v1/audit", headers=api.auth("alice"))
    assert author_reads_audit.status_code == 403
    assert api.client.get("/api/v1/audit").status_code == 401
    assert api.client.get("/api/v1/audit", headers=api.auth("carol")).status_code == 200

    listing = api.client.get("/api/v1/editorial/items?kind=regimens", headers=api.auth("alice"))
    assert listing.status_code == 200
    assert {i["kind"] for i in listing.json()} == {"regimens"}
    unknown = api.client.get(
        "/api/v1/editorial/items/statements/stmt.no.such/history", headers=api.auth("alice")
    )
    assert unknown.status_code == 404
    bad_kind = api.client.get(
        "/api/v1/editorial/items/recipes/x/history", headers=api.auth("alice")
    )
    assert bad_kind.status_code == 422


def test_disabled_account_token_stops_working(fresh_api: Api) -> None:
    from allguide.store import UserRepository

    api = fresh_api
    assert api.client.get("/api/v1/editorial/items", headers=api.auth("dave")).status_code == 200
    with api.app.state.db.session() as session:
        UserRepository(session).set_active("dave", False)
    assert api.client.get("/api/v1/editorial/items", headers=api.auth("dave")).status_code == 401


def test_another_worker_picks_up_approved_content(fresh_settings: Settings) -> None:
    """Two server processes on one database: an approval in one reaches the other."""
    settings = fresh_settings.model_copy(update={"content_poll_seconds": 0.1})
    with running(settings) as first, running(settings) as second:
        new_text = _item(first)["clinician_text"] + " Seen by every worker."
        draft = _draft(first, "alice", new_text)
        base = f"/api/v1/editorial/items/statements/{STATEMENT}/versions/{draft['number']}"
        first.client.post(f"{base}/submit", headers=first.auth("alice"))
        approved = first.client.post(f"{base}/approve", headers=first.auth("bob"))
        assert approved.status_code == 200
        deadline = time.monotonic() + 10
        while _item(second)["clinician_text"] != new_text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _item(second)["clinician_text"] == new_text

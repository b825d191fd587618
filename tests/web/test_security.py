"""Security: headers, CSRF, sessions, rate limits, error envelopes, logs without patient data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, Request
from starlette.requests import Request as StarletteRequest
from web_support import CHILD, Api, make_settings, running

from allguide.web.app import create_app
from allguide.web.security import (
    csrf_token,
    limit_login,
    session_user_id,
    start_session,
    verify_csrf,
)
from allguide.web.settings import RateLimit, Settings


def _test_routes() -> APIRouter:
    router = APIRouter(prefix="/t")

    @router.get("/form")
    def form(request: Request) -> dict[str, str]:
        return {"csrf": csrf_token(request)}

    @router.post("/form", dependencies=[Depends(verify_csrf)])
    async def post_form(request: Request) -> dict[str, str]:
        form = await request.form()
        return {"name": str(form.get("name"))}

    @router.post("/login", dependencies=[Depends(limit_login), Depends(verify_csrf)])
    def login(request: Request) -> dict[str, bool]:
        start_session(request, 1, "test-session")
        return {"ok": True}

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    return router


@pytest.fixture
def secured(fresh_settings: Settings) -> Iterator[Api]:
    settings = fresh_settings.model_copy(
        update={"rate_limit_login": RateLimit(requests=3, period_seconds=60)}
    )
    app = create_app(settings)
    app.include_router(_test_routes())
    with running(settings, app) as api:
        yield api


def test_security_headers_on_every_response(api: Api) -> None:
    for response in (
        api.client.get("/api/v1/ping"),
        api.client.get("/api/v1/nope"),
        api.client.post("/api/v1/plans", json={}),
    ):
        h = response.headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "object-src 'none'" in h["content-security-policy"]
        assert "base-uri 'none'" in h["content-security-policy"]
        assert "'unsafe-inline'" not in h["content-security-policy"]
        assert "camera=()" in h["permissions-policy"]
        assert h["strict-transport-security"].startswith("max-age=31536000")
        assert h["cache-control"] == "no-store"
        assert "server" not in h
        assert h["content-type"].endswith("charset=utf-8")


def test_docs_page_gets_only_its_own_script_hashes(api: Api) -> None:
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    assert "'sha256-" in csp and "'unsafe-inline'" not in csp
    assert api.client.get("/openapi.json").json()["info"]["title"] == "allguide"


def test_no_hsts_and_plain_cookie_in_http_dev_mode(
    tmp_path: Path, seeded_database_url: str
) -> None:
    settings = make_settings(seeded_database_url, tmp_path, secure_cookies=False)
    assert settings.warnings()
    with running(settings) as api:
        assert "strict-transport-security" not in api.client.get("/api/v1/ping").headers


def test_csrf_required_for_form_posts(secured: Api) -> None:
    client = secured.client
    token = client.get("/t/form").json()["csrf"]
    cookie = client.cookies.jar
    names = [c.name for c in cookie]
    assert names == ["__Host-allguide_session"]
    set_cookie = client.get("/t/form").headers.get("set-cookie", "")
    assert set_cookie == ""  # unchanged session: no new cookie

    refused = client.post("/t/form", data={"name": "x"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/t/form", data={"name": "x", "csrf_token": "forged"})
    assert wrong.status_code == 403
    ok = client.post("/t/form", data={"name": "x", "csrf_token": token})
    assert ok.status_code == 200 and ok.json() == {"name": "x"}
    header = client.post("/t/form", data={"name": "y"}, headers={"X-CSRF-Token": token})
    assert header.status_code == 200
    # An API token is not an ambient credential: no CSRF token needed with it.
    bearer = client.post("/t/form", data={"name": "z"}, headers=secured.auth("alice"))
    assert bearer.status_code == 200


def test_session_cookie_flags_and_rotation_at_login(secured: Api) -> None:
    client = secured.client
    before = client.get("/t/form").json()["csrf"]
    login = client.post("/t/login", headers={"X-CSRF-Token": before})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("__Host-allguide_session=")
    for flag in ("path=/", "httponly", "samesite=lax", "secure"):
        assert flag in cookie.lower()
    after = client.get("/t/form").json()["csrf"]
    assert after != before  # login replaced the session, planted tokens are gone


def test_login_is_rate_limited(secured: Api) -> None:
    client = secured.client
    token = client.get("/t/form").json()["csrf"]
    # 3 per minute: the first logs in (and replaces the CSRF token, so the next two are
    # refused by the CSRF check), and all three attempts count.
    statuses = [
        client.post("/t/login", headers={"X-CSRF-Token": token}).status_code for _ in range(3)
    ]
    assert statuses == [200, 403, 403]
    limited = client.post("/t/login", headers={"X-CSRF-Token": token})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


def test_write_endpoints_are_rate_limited(fresh_settings: Settings) -> None:
    settings = fresh_settings.model_copy(
        update={"rate_limit_write": RateLimit(requests=2, period_seconds=60)}
    )
    with running(settings) as api:
        codes = [
            api.client.post("/api/v1/plans", json={"patient": CHILD}).status_code for _ in range(3)
        ]
        assert codes == [201, 201, 429]
        assert api.client.get("/api/v1/ping").status_code == 200  # reads are not limited


def test_unhandled_error_is_a_500_envelope_without_details(
    secured: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="allguide.web"):
        response = secured.client.get("/t/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["request_id"] in caplog.text  # the trace is in the server log
    assert "RuntimeError" in caplog.text


def test_404_and_405_envelopes_and_html_for_browsers(api: Api) -> None:
    missing = api.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error", "request_id"}
    wrong_method = api.client.delete("/api/v1/plans")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    page = api.client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()


def test_logs_hold_no_patient_data(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    marker = {**CHILD, "weight_kg": 23.456, "genetics": ["ETV6::RUNX1"]}
    with caplog.at_level(logging.DEBUG):
        created = api.client.post("/api/v1/plans", json={"patient": marker})
        api.client.post("/api/v1/plans", json={"patient": {**marker, "age_years": -1}})
        api.client.get(f"{created.json()['api_url']}?note=ETV6")
    # What the server logged (the test client's own request log is not the server's).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("allguide"))
    assert "POST /api/v1/plans 201" in text
    assert "GET /api/v1/plans/{plan_id} 200" in text
    assert "23.456" not in text and "ETV6" not in text and "RUNX1" not in text
    assert created.json()["id"] not in text  # path parameters are logged as templates


def test_session_idle_and_absolute_timeouts(fresh_settings: Settings) -> None:
    request = StarletteRequest({"type": "http", "session": {}, "headers": []})
    start_session(request, 7, "s1", now=1_000)
    assert session_user_id(request, fresh_settings, now=1_000 + 60) == "7"
    idle = fresh_settings.session_idle_minutes * 60
    assert session_user_id(request, fresh_settings, now=1_060 + idle - 1) == "7"
    assert session_user_id(request, fresh_settings, now=1_060 + 2 * idle) is None
    assert request.session == {}  # cleared

    start_session(request, 7, "s2", now=0)
    t = 0
    limit = fresh_settings.session_max_hours * 3600
    while t + 600 < limit:  # active all day: the idle window keeps sliding
        t += 600
        assert session_user_id(request, fresh_settings, now=t) == "7"
    assert session_user_id(request, fresh_settings, now=limit + 1) is None

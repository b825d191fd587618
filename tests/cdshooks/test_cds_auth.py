"""JWT verification of CDS Clients: what is accepted, and every refusal with its status."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx
import pytest
from cds_helpers import (
    PUBLIC_URL,
    assert_valid_cards,
    bare_app,
    cds_config,
    prefetch_for,
    real_app,
    url,
)
from mock_ehr import MockEhr, bearer

from allguide.cdshooks.config import ASYMMETRIC_ALGORITHMS, CdsConfigError, TrustedIssuer
from allguide.knowledge.pack import ContentPack

pytestmark = pytest.mark.anyio

SERVICE = "allguide-patient-view"
AUD = url(SERVICE)


def patient_view_body() -> dict[str, Any]:
    return MockEhr.hook_request(
        "patient-view", "child-1", prefetch=prefetch_for("child-b-all-bundle", "child-1")
    )


async def call(client: httpx.AsyncClient, token: str | None, service: str = SERVICE) -> int:
    headers = bearer(token) if token is not None else {}
    response = await client.post(url(service), json=patient_view_body(), headers=headers)
    if response.status_code == 200:
        assert_valid_cards(response.json())
    else:
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
    return response.status_code


# ------------------------------------------------------------------------------ accepted


@pytest.mark.parametrize("alg", ["ES384", "RS384", "ES256"])
async def test_spec_profile_tokens_are_accepted(
    client: httpx.AsyncClient, ehr: MockEhr, alg: str
) -> None:
    assert await call(client, ehr.token(AUD, alg=alg)) == 200


async def test_sandbox_and_epic_like_profiles_are_accepted(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    assert await call(client, ehr.sandbox_token(AUD)) == 200  # ES256 + sub
    assert await call(client, ehr.epic_like_token(AUD)) == 200  # RS384 + sub + nbf


async def test_token_without_jku_uses_the_configured_jwks(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    assert await call(client, ehr.token(AUD, jku=False)) == 200


async def test_aud_may_be_an_array_containing_the_url(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    assert await call(client, ehr.token([f"{PUBLIC_URL}/other", AUD])) == 200


# ------------------------------------------------------------------------------ refused


async def test_missing_or_malformed_authorization_is_401_without_detail(
    client: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"authorization": "Bearer "}, {"authorization": "Basic abc"}):
        response = await client.post(url(SERVICE), json=patient_view_body(), headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["issue"][0]["diagnostics"] == "unauthorized"
    assert await call(client, "not.a.jwt") == 401


async def test_expired_token_is_refused(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    long_ago = time.time() - 3600
    assert await call(client, ehr.token(AUD, iat=long_ago, lifetime=300)) == 401


@pytest.mark.parametrize(
    "aud",
    [
        url(),  # the discovery URL
        url("allguide-order-sign"),  # another service
        AUD + "/",  # trailing slash: the URL must be exact
        AUD.replace("allguide.test", "evil.test"),  # another host
        [url("allguide-order-sign")],  # an array without our URL
    ],
)
async def test_wrong_audience_is_refused(
    client: httpx.AsyncClient, ehr: MockEhr, aud: str | list[str]
) -> None:
    assert await call(client, ehr.token(aud)) == 401


async def test_replayed_jti_is_refused(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    token = ehr.token(AUD)
    assert await call(client, token) == 200
    assert await call(client, token) == 401
    # Same jti in a freshly signed token: still a replay.
    assert await call(client, ehr.token(AUD, jti=ehr_jti(token))) == 401


async def test_a_token_replayed_to_another_worker_is_refused(
    ehr: MockEhr, tenant_ehr: MockEhr, tmp_path: Any
) -> None:
    """Two app instances on one database stand for two worker processes: each has its
    own in-memory replay cache, the database is what they share."""
    workers = [real_app(ehr, tenant_ehr, tmp_path) for _ in range(2)]
    token = ehr.token(AUD)
    async with (
        workers[0].router.lifespan_context(workers[0]),
        workers[1].router.lifespan_context(workers[1]),
    ):
        statuses = []
        for app in workers:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
                statuses.append(await call(client, token))
                feedback = await client.post(
                    f"{url(SERVICE)}/feedback",
                    json={"feedback": []},
                    headers=bearer(ehr.token(f"{url(SERVICE)}/feedback", jti=ehr_jti(token))),
                )
                statuses.append(feedback.status_code)
    assert statuses == [200, 401, 401, 401]


def ehr_jti(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


async def test_unknown_issuer_is_refused_and_its_jku_never_fetched(
    client: httpx.AsyncClient,
) -> None:
    stranger = MockEhr(iss="https://stranger.example", algorithms=("ES384",)).start()
    try:
        assert await call(client, stranger.token(AUD)) == 401
        assert stranger.jwks_fetches == 0
    finally:
        stranger.stop()


async def test_alg_none_is_refused(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    assert await call(client, ehr.unsigned_token(AUD)) == 401


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_hmac_with_the_public_key_as_secret_is_refused(
    client: httpx.AsyncClient, ehr: MockEhr, alg: str
) -> None:
    assert await call(client, ehr.hmac_token(AUD, alg=alg)) == 401


async def test_signature_by_another_key_is_refused(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    impostor = MockEhr(iss=ehr.iss, algorithms=("ES384",)).start()
    try:
        # Same iss and kid as the real EHR, signed with the impostor's key, jku pointing home.
        forged = impostor.token(AUD, headers={"kid": ehr.keys["ES384"].kid, "jku": ehr.jwks_url})
        assert await call(client, forged) == 401
    finally:
        impostor.stop()


async def test_jku_not_on_the_allowlist_is_refused_without_fetching(
    client: httpx.AsyncClient, ehr: MockEhr
) -> None:
    elsewhere = MockEhr(iss=ehr.iss, algorithms=("ES384",)).start()
    try:
        token = elsewhere.token(AUD)  # jku = elsewhere's JWKS URL
        assert await call(client, token) == 401
        assert elsewhere.jwks_fetches == 0
    finally:
        elsewhere.stop()


async def test_lifetime_and_time_claims(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    now = time.time()
    assert await call(client, ehr.token(AUD, lifetime=7200)) == 401  # over the maximum
    assert await call(client, ehr.token(AUD, iat=now + 600)) == 401  # issued in the future
    assert await call(client, ehr.token(AUD, nbf=int(now) + 600)) == 401  # not yet valid
    assert await call(client, ehr.token(AUD, iat=now + 30)) == 200  # within the leeway
    for claim in ("exp", "iat", "jti", "iss", "aud"):
        assert await call(client, ehr.token(AUD, drop=(claim,))) == 401, claim


async def test_typ_other_than_jwt_is_refused(client: httpx.AsyncClient, ehr: MockEhr) -> None:
    assert await call(client, ehr.token(AUD, headers={"typ": "at+jwt"})) == 401


async def test_unknown_kid_refetches_once_then_refuses(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    app = bare_app(cds_config(ehr, tenant_ehr, jwks_min_refetch_seconds=0.2), pack)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL
    ) as client:
        assert await call(client, ehr.token(AUD)) == 200
        await anyio.sleep(0.25)  # past the refetch rate limit
        fetches = ehr.jwks_fetches
        bogus = ehr.token(AUD, headers={"kid": "no-such-kid"})
        assert await call(client, bogus) == 401
        assert ehr.jwks_fetches == fetches + 1  # one refetch for a possibly rotated key
        assert await call(client, ehr.token(AUD, headers={"kid": "no-such-kid"})) == 401
        assert ehr.jwks_fetches == fetches + 1  # rate-limited: no second refetch


async def test_rotated_key_is_picked_up(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    rotating = MockEhr(iss="https://rotating.example", algorithms=("ES384",)).start()
    try:
        config = cds_config(
            ehr,
            tenant_ehr,
            issuers=(TrustedIssuer(iss=rotating.iss, jwks_url=rotating.jwks_url),),
            jwks_min_refetch_seconds=0.2,
        )
        app = bare_app(config, pack)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            assert await call(client, rotating.token(AUD)) == 200
            rotating.rotate("ES384")
            await anyio.sleep(0.25)
            assert await call(client, rotating.token(AUD)) == 200
    finally:
        rotating.stop()


async def test_jwks_host_down_uses_cached_keys(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    flaky = MockEhr(iss="https://flaky.example", algorithms=("ES384",)).start()
    try:
        config = cds_config(
            ehr,
            tenant_ehr,
            issuers=(TrustedIssuer(iss=flaky.iss, jwks_url=flaky.jwks_url),),
            jwks_ttl_seconds=0,  # always stale: every call tries to refresh
        )
        transport = httpx.ASGITransport(app=bare_app(config, pack))
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            flaky.set_jwks_down(True)
            assert await call(client, flaky.token(AUD)) == 503  # nothing cached yet
            flaky.set_jwks_down(False)
            assert await call(client, flaky.token(AUD)) == 200
            flaky.set_jwks_down(True)
            assert await call(client, flaky.token(AUD)) == 200  # last good key set
    finally:
        flaky.stop()


# ---------------------------------------------------------------------- authorisation


async def test_tenant_not_allowed_is_403(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    transport = httpx.ASGITransport(app=bare_app(cds_config(ehr, tenant_ehr), pack))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        assert await call(client, tenant_ehr.token(AUD, tenant="org-a")) == 200
        assert await call(client, tenant_ehr.token(AUD, tenant="org-b")) == 403
        assert await call(client, tenant_ehr.token(AUD)) == 403  # no tenant claim


async def test_issuer_limited_to_some_services_gets_403_elsewhere(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    transport = httpx.ASGITransport(app=bare_app(cds_config(ehr, tenant_ehr), pack))
    other = "allguide-order-sign"
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        token = tenant_ehr.token(url(other), tenant="org-a")
        response = await client.post(url(other), json={}, headers=bearer(token))
        assert response.status_code == 403


async def test_alg_not_allowed_for_issuer_is_refused(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr
) -> None:
    """The tenant EHR may only use ES384; an RS384 key in its name is refused."""
    transport = httpx.ASGITransport(app=bare_app(cds_config(ehr, tenant_ehr), pack))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        token = ehr.token(AUD, alg="RS384", iss=tenant_ehr.iss, tenant="org-a", jku=False)
        assert await call(client, token) == 401


def test_issuer_configuration_refuses_symmetric_algorithms() -> None:
    for alg in ("HS256", "none"):
        with pytest.raises(CdsConfigError):
            TrustedIssuer(iss="https://x", jwks_url="https://x/jwks", algorithms=(alg,))
    assert not {a for a in ASYMMETRIC_ALGORITHMS if a.startswith("HS") or a == "none"}


async def test_insecure_mode_accepts_without_token_and_warns(
    pack: ContentPack, ehr: MockEhr, tenant_ehr: MockEhr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="allguide.cdshooks")
    app = bare_app(cds_config(ehr, tenant_ehr, insecure=True), pack)
    assert "INSECURE" in caplog.text
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        assert await call(client, None) == 200


async def test_no_token_or_access_token_in_logs(
    client: httpx.AsyncClient, ehr: MockEhr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    token = ehr.token(AUD)
    body = patient_view_body()
    body["fhirServer"] = "https://fhir.invalid"
    body["fhirAuthorization"] = {
        "access_token": "secret-fhir-token-123",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "allguide",
    }
    response = await client.post(url(SERVICE), json=body, headers=bearer(token))
    assert response.status_code == 200
    await call(client, token)  # a refused replay logs its reason
    assert token not in caplog.text
    assert "secret-fhir-token-123" not in caplog.text

"""Verification of the JWT a CDS Client sends with every call (CDS Hooks 2.0, "Trusting
CDS Clients").

Checks, in order (any failure of 1-8 is a bare 401, the reason goes to the log only):
1. `Authorization: Bearer <JWS>` is present and parses; `typ`, when present, is `JWT`.
2. `alg` is asymmetric (never `none`, never HMAC) and on the issuer's own allowlist.
3. `iss` is a trusted issuer; `kid` is present; a `jku` header, when present, equals that
   issuer's allowlisted JWKS URL (otherwise nothing is fetched).
4. The key comes from that JWKS only, by `kid` (one rate-limited refetch for an unknown kid,
   to pick up rotated keys); its type and curve match `alg`, and RSA keys have ≥ 2048 bits.
5. The signature verifies.
6. `aud` is exactly the URL called (or one of them), built from the configured public URL.
7. `exp`, `iat` and `jti` are present; `exp` is in the future and `iat`/`nbf` not in the
   future (small leeway); `exp - iat` is not longer than the configured maximum.
8. `jti` has not been seen before for this issuer (kept until the token expires).
Then authorisation (403): the issuer may be limited to some services and tenants.

The token itself is never logged, stored or echoed; `iss`, `tenant`, `kid` and `jti` may be.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from allguide.cdshooks.config import ASYMMETRIC_ALGORITHMS, CdsConfig, TrustedIssuer
from allguide.cdshooks.http import ClientFactory, default_client

log = logging.getLogger("allguide.cdshooks.auth")

MAX_TOKEN_BYTES = 16_384
MAX_JWKS_BYTES = 256_000
MIN_RSA_BITS = 2048
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}


class AuthError(Exception):
    """The call is refused: `status` is 401 (not authenticated), 403 (not allowed) or 503
    (keys cannot be fetched now). `reason` is for the server log, never for the client."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """Who called, once verified (or `insecure=True` in development mode)."""

    iss: str | None
    tenant: str | None = None
    jti: str | None = None
    sub: str | None = None
    insecure: bool = False
    keep_jti_until: float | None = None  # epoch seconds: exp + leeway


class ReplayCache:
    """`jti` values already accepted, per issuer, kept until the token's `exp` (+ leeway).

    In-memory, so it protects one process; the hook store also records each token used,
    in the database that the worker processes share (`HookStore`, `TokenReplayed`).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._next_purge = 0.0

    def check_and_add(self, iss: str, jti: str, keep_until: float) -> bool:
        """Record the jti; False when it was already there (a replay)."""
        now = self._clock()
        with self._lock:
            if now >= self._next_purge:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
                self._next_purge = now + 30
            key = (iss, jti)
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = keep_until
            return True

    def __len__(self) -> int:
        return len(self._seen)


@dataclass
class _KeySet:
    keys: dict[str, dict[str, Any]]
    fetched_at: float


class JwksCache:
    """Key sets fetched from allowlisted JWKS URLs, cached for `ttl` seconds.

    An unknown `kid` triggers one refetch, at most every `min_refetch` seconds per URL. When
    the JWKS host is down the last good key set is used, however old.
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        *,
        ttl: float,
        min_refetch: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_factory = client_factory
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._timeout = timeout
        self._clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._last_attempt: dict[str, float] = {}
        # One lock per (event loop, URL): an asyncio.Lock must not cross event loops.
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def key(self, url: str, kid: str) -> dict[str, Any]:
        cached = self._sets.get(url)
        now = self._clock()
        if cached is not None and now - cached.fetched_at < self._ttl and kid in cached.keys:
            return cached.keys[kid]
        lock = self._locks.setdefault((id(asyncio.get_running_loop()), url), asyncio.Lock())
        async with lock:
            cached = self._sets.get(url)  # another task may have refreshed it meanwhile
            now = self._clock()
            fresh = cached is not None and now - cached.fetched_at < self._ttl
            if fresh and cached is not None and kid in cached.keys:
                return cached.keys[kid]
            last = self._last_attempt.get(url)
            may_fetch = not fresh or last is None or now - last >= self._min_refetch
            if may_fetch:
                self._last_attempt[url] = now
                try:
                    cached = _KeySet(await self._fetch(url), now)
                    self._sets[url] = cached
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("JWKS fetch from %s failed: %s", url, type(exc).__name__)
                    if cached is None:
                        raise AuthError(503, f"JWKS {url} unreachable and no cached keys") from None
            if cached is not None and kid in cached.keys:
                return cached.keys[kid]
            raise AuthError(401, f"kid {kid!r} not in JWKS {url}")

    async def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        async with self._client_factory() as client:
            response = await client.get(
                url,
                timeout=self._timeout,
                follow_redirects=False,
                headers={"accept": "application/json"},
            )
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        body = response.json()
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            raise ValueError("no 'keys' array")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}


class JwtVerifier:
    def __init__(
        self,
        config: CdsConfig,
        client_factory: ClientFactory = default_client,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.jwks = JwksCache(
            client_factory,
            ttl=config.jwks_ttl_seconds,
            min_refetch=config.jwks_min_refetch_seconds,
            timeout=config.jwks_timeout_seconds,
        )
        self.replay = ReplayCache(clock)

    async def verify(
        self, authorization: str | None, *, audiences: Sequence[str], service_id: str | None
    ) -> Caller:
        """The verified caller, or `AuthError`. `audiences`: the exact URL(s) called."""
        if self.config.insecure:
            return Caller(iss=None, insecure=True)
        try:
            caller = await self._verify(authorization, audiences, service_id)
        except AuthError as exc:
            log.warning("CDS Hooks call refused (%d): %s", exc.status, exc.reason)
            raise
        return caller

    async def _verify(
        self, authorization: str | None, audiences: Sequence[str], service_id: str | None
    ) -> Caller:
        token = _bearer(authorization)
        try:
            header = pyjwt.get_unverified_header(token)
            unverified = pyjwt.decode(token, options={"verify_signature": False})
        except pyjwt.PyJWTError as exc:
            raise AuthError(401, f"not a JWT ({type(exc).__name__})") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
            raise AuthError(401, f"alg {alg!r} refused (asymmetric algorithms only)")
        typ = header.get("typ")
        if typ is not None and str(typ).upper() != "JWT":
            raise AuthError(401, f"typ {typ!r} is not JWT")
        iss = unverified.get("iss")
        if not isinstance(iss, str) or (issuer := self.config.issuer(iss)) is None:
            raise AuthError(401, f"issuer {iss!r} is not trusted")
        if alg not in issuer.algorithms:
            raise AuthError(401, f"alg {alg} not allowed for issuer {iss}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError(401, f"no kid in the header (issuer {iss})")
        jku = header.get("jku")
        if jku is not None and jku != issuer.jwks_url:
            raise AuthError(401, f"jku {jku!r} is not the allowlisted JWKS of {iss}")
        if not audiences:
            raise AuthError(401, "no public URL configured, so no audience can match")
        jwk = await self.jwks.key(issuer.jwks_url, kid)
        key = _verification_key(jwk, alg, iss, kid)
        try:
            claims: dict[str, Any] = pyjwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=list(audiences),
                issuer=iss,
                leeway=self.config.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "jti"], "strict_aud": False},
            )
        except pyjwt.PyJWTError as exc:
            raise AuthError(401, f"{type(exc).__name__}: {exc} (issuer {iss}, kid {kid})") from None
        _check_audience(claims.get("aud"), audiences)
        exp, iat = claims["exp"], claims["iat"]
        if exp - iat > self.config.max_token_seconds:
            raise AuthError(401, f"token lifetime {exp - iat}s over the maximum (issuer {iss})")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise AuthError(401, f"jti must be a non-empty string (issuer {iss})")
        tenant = claims.get("tenant")
        _authorise(issuer, service_id, tenant if isinstance(tenant, str) else None)
        keep_until = float(exp) + self.config.leeway_seconds
        if not self.replay.check_and_add(iss, jti, keep_until):
            raise AuthError(401, f"replayed jti {jti!r} (issuer {iss})")
        sub = claims.get("sub")
        return Caller(
            iss=iss,
            tenant=tenant if isinstance(tenant, str) else None,
            jti=jti,
            sub=sub if isinstance(sub, str) else None,
            keep_jti_until=keep_until,
        )


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError(401, "no Authorization header")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "Authorization is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthError(401, "token too long")
    return token


def _verification_key(jwk: dict[str, Any], alg: str, iss: str, kid: str) -> Any:
    """The public key for `alg`, refusing key-type confusion (e.g. an RSA key for ES*)."""
    if jwk.get("alg") not in (None, alg):
        raise AuthError(401, f"key {kid} of {iss} is for {jwk.get('alg')}, token uses {alg}")
    if jwk.get("use") not in (None, "sig"):
        raise AuthError(401, f"key {kid} of {iss} is not a signing key")
    if any(k in jwk for k in ("d", "p", "q", "k")):
        raise AuthError(401, f"key {kid} of {iss} is private or symmetric")
    try:
        key = _public_key(json.dumps(jwk, sort_keys=True), alg)
    except (pyjwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise AuthError(401, f"key {kid} of {iss} unusable for {alg}: {exc}") from None
    if alg.startswith("ES"):
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVES[alg]:
            raise AuthError(401, f"key {kid} of {iss} is not on the curve {alg} needs")
    elif not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise AuthError(401, f"key {kid} of {iss} is not an RSA key of ≥ {MIN_RSA_BITS} bits")
    return key


@lru_cache(maxsize=256)
def _public_key(jwk_json: str, alg: str) -> Any:
    """Key objects are costly to build and immutable: one per distinct JWK and algorithm."""
    return pyjwt.PyJWK(json.loads(jwk_json), algorithm=alg).key


def _check_audience(aud: Any, audiences: Sequence[str]) -> None:
    """`aud` must name the URL called exactly (no trailing-slash or host variants)."""
    values = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(v, str) and v in audiences for v in values):
        raise AuthError(401, f"aud {aud!r} is not the URL called")


def _authorise(issuer: TrustedIssuer, service_id: str | None, tenant: str | None) -> None:
    if service_id is not None and issuer.services and service_id not in issuer.services:
        raise AuthError(403, f"issuer {issuer.iss} may not call service {service_id}")
    if issuer.tenants and tenant not in issuer.tenants:
        raise AuthError(403, f"tenant {tenant!r} not allowed for issuer {issuer.iss}")

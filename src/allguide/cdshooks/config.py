"""The resolved configuration of the CDS Hooks service.

The app's `Settings` (owned by `allguide.web.settings`) carry the operator-facing choices:
the public URL (the JWT audience), the trusted issuers, CORS origins and the insecure
development switch. This module turns them into one frozen `CdsConfig`, adding the few
tuning knobs only this package uses (clock leeway, timeouts, FHIR server allowlist), each
readable from an `ALLGUIDE_CDS_*` environment variable:

| variable                               | default | meaning                                   |
|----------------------------------------|---------|-------------------------------------------|
| ALLGUIDE_CDS_INSECURE (or _INSECURE_DEV)| false   | skip JWT checks (development only)       |
| ALLGUIDE_CDS_LEEWAY_SECONDS            | 60      | clock skew allowed on exp/iat/nbf         |
| ALLGUIDE_CDS_MAX_TOKEN_SECONDS         | 3600    | longest accepted exp - iat                |
| ALLGUIDE_CDS_JWKS_TTL_SECONDS          | 3600    | how long fetched keys are trusted         |
| ALLGUIDE_CDS_JWKS_TIMEOUT_SECONDS      | 2       | JWKS fetch timeout                        |
| ALLGUIDE_CDS_FHIR_TIMEOUT_SECONDS      | 3       | per FHIR call-back request                |
| ALLGUIDE_CDS_FHIR_SERVERS              | (any)   | comma-separated allowed fhirServer prefixes|
| ALLGUIDE_CDS_FHIR_ALLOW_HTTP           | false   | allow plain-http fhirServer (tests, dev)  |
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("allguide.cdshooks")

# Asymmetric JWS algorithms only: never `none`, never HMAC (HS*), whatever an issuer lists.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
DEFAULT_ALGORITHMS = ("ES384", "RS384")
_TRUE = {"1", "true", "yes", "on"}


class CdsConfigError(ValueError):
    """A CDS Hooks setting is unusable; the message names it."""


@dataclass(frozen=True)
class TrustedIssuer:
    """One EHR (JWT issuer) allowed to call the services."""

    iss: str
    jwks_url: str
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    # Empty = any tenant (or none); otherwise the JWT `tenant` claim must be one of these.
    tenants: tuple[str, ...] = ()
    # Empty = every service; otherwise only these service ids (others get 403).
    services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise CdsConfigError(
                f"issuer {self.iss}: algorithm(s) {', '.join(bad)} not allowed; use asymmetric "
                f"ones only ({', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"
            )
        if not self.jwks_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise CdsConfigError(
                f"issuer {self.iss}: jwks_url '{self.jwks_url}' must be https "
                "(plain http only on loopback, for tests)"
            )


@dataclass(frozen=True)
class CdsConfig:
    # External base URL, e.g. https://allguide.example.org; JWT `aud` is checked against
    # `{public_url}/cds-services/{id}`. Never derived from the Host header.
    public_url: str | None = None
    issuers: tuple[TrustedIssuer, ...] = ()
    insecure: bool = False
    cors_origins: tuple[str, ...] = ()
    leeway_seconds: int = 60
    max_token_seconds: int = 3600
    jwks_ttl_seconds: int = 3600
    jwks_min_refetch_seconds: float = 10.0
    jwks_timeout_seconds: float = 2.0
    fhir_timeout_seconds: float = 3.0
    fhir_max_pages: int = 5
    fhir_servers: tuple[str, ...] = ()
    fhir_allow_http: bool = False
    # Where cards link to (plan pages, statements); defaults to public_url.
    app_url: str | None = None

    def issuer(self, iss: str) -> TrustedIssuer | None:
        for issuer in self.issuers:
            if issuer.iss == iss:
                return issuer
        return None

    def service_url(self, service_id: str) -> str | None:
        if self.public_url is None:
            return None
        return f"{self.public_url}/cds-services/{service_id}"

    @property
    def link_base(self) -> str:
        return (self.app_url or self.public_url or "").rstrip("/")

    @classmethod
    def from_settings(cls, settings: Any, env: Mapping[str, str] | None = None) -> CdsConfig:
        """Build from the app's `Settings` (duck-typed) and `ALLGUIDE_CDS_*` variables."""
        env = os.environ if env is None else env
        cds = getattr(settings, "cds", None)
        issuers = tuple(
            TrustedIssuer(
                iss=_attr(i, "iss"),
                jwks_url=_require_jwks(i),
                algorithms=tuple(_attr(i, "algorithms", DEFAULT_ALGORITHMS)),
                tenants=tuple(_attr(i, "tenants", ())),
                services=tuple(_attr(i, "services", ())),
            )
            for i in (getattr(cds, "issuers", ()) or ())
        )
        insecure = bool(getattr(cds, "insecure_dev", False)) or any(
            env.get(v, "").strip().lower() in _TRUE
            for v in ("ALLGUIDE_CDS_INSECURE", "ALLGUIDE_CDS_INSECURE_DEV")
        )
        public_url = getattr(settings, "public_url", None)
        return cls(
            public_url=public_url.rstrip("/") if public_url else None,
            issuers=issuers,
            insecure=insecure,
            cors_origins=tuple(getattr(settings, "cors_origins", ()) or ()),
            leeway_seconds=_int(env, "ALLGUIDE_CDS_LEEWAY_SECONDS", 60),
            max_token_seconds=_int(env, "ALLGUIDE_CDS_MAX_TOKEN_SECONDS", 3600),
            jwks_ttl_seconds=_int(env, "ALLGUIDE_CDS_JWKS_TTL_SECONDS", 3600),
            jwks_timeout_seconds=_float(env, "ALLGUIDE_CDS_JWKS_TIMEOUT_SECONDS", 2.0),
            fhir_timeout_seconds=_float(env, "ALLGUIDE_CDS_FHIR_TIMEOUT_SECONDS", 3.0),
            fhir_servers=tuple(
                s.strip() for s in env.get("ALLGUIDE_CDS_FHIR_SERVERS", "").split(",") if s.strip()
            ),
            fhir_allow_http=env.get("ALLGUIDE_CDS_FHIR_ALLOW_HTTP", "").strip().lower() in _TRUE,
        )

    def warnings(self) -> list[str]:
        out = []
        if self.insecure:
            out.append(
                "CDS Hooks INSECURE DEVELOPMENT MODE: JWTs are NOT verified; any caller can "
                "invoke the services. Never use this with real patient data."
            )
        elif not self.issuers:
            out.append("CDS Hooks: no trusted issuers configured; every hook call gets 401")
        elif self.public_url is None:
            out.append(
                "CDS Hooks: ALLGUIDE_PUBLIC_URL is not set, so no JWT audience can match; "
                "every hook call gets 401"
            )
        if self.fhir_allow_http:
            out.append("CDS Hooks: plain-http fhirServer URLs are allowed (tests/dev only)")
        return out


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _require_jwks(issuer: Any) -> str:
    url = _attr(issuer, "jwks_url")
    if not url:
        raise CdsConfigError(
            f"issuer {_attr(issuer, 'iss')}: jwks_url is required (keys are only taken "
            "from an allowlisted JWKS URL)"
        )
    return str(url)


def _int(env: Mapping[str, str], var: str, default: int) -> int:
    raw = env.get(var)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise CdsConfigError(f"{var}: '{raw}' is not a whole number") from None
    if value < 0:
        raise CdsConfigError(f"{var}: must be 0 or more, got {value}")
    return value


def _float(env: Mapping[str, str], var: str, default: float) -> float:
    raw = env.get(var)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise CdsConfigError(f"{var}: '{raw}' is not a number of seconds") from None
    if value <= 0:
        raise CdsConfigError(f"{var}: must be more than 0, got {value}")
    return value

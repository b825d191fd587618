"""Outbound HTTP for the CDS Hooks shell (JWKS and FHIR call-backs).

One short-lived `httpx.AsyncClient` per use, sharing one TLS context (building a context
is the expensive part): no client outlives the event loop that made it, which keeps the
service safe under any ASGI server or test runner.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from functools import lru_cache

import certifi
import httpx

ClientFactory = Callable[[], httpx.AsyncClient]


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def default_client() -> httpx.AsyncClient:
    # No redirects (a bearer token must never follow one to another host), no proxies from
    # the environment (the allowlisted hosts are called directly).
    return httpx.AsyncClient(
        verify=_tls_context(),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "allguide-cdshooks"},
    )

"""Prefetch: expand templates, take what the client sent, fetch the rest from `fhirServer`.

Client behaviour handled (CDS Hooks 2.0, "Prefetch"):
- a key with a resource or Bundle: used as sent (entries for another patient are dropped
  and reported);
- a key set to `null`: the client has no data, which is *unknown*, not an error;
- a key missing, or an `OperationOutcome` in its place: fetched from `fhirServer` with
  `fhirAuthorization.access_token` as bearer token (never logged);
- a Bundle with a `next` link: followed on the same server, a few pages at most.
When a required key (the Patient) cannot be obtained the service answers 412.

Fetching is bounded: a timeout per request, no redirects (the token must not follow a
redirect elsewhere), https only unless explicitly allowed for tests, an optional allowlist
of servers, and no request at all when the access token has already expired.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from allguide.cdshooks.config import CdsConfig
from allguide.cdshooks.discovery import REQUIRED_KEYS, Service
from allguide.cdshooks.http import ClientFactory, default_client
from allguide.cdshooks.models import HookRequest

log = logging.getLogger("allguide.cdshooks.prefetch")

_TOKEN = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_.]*)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
MAX_RESPONSE_BYTES = 20_000_000


class PrefetchUnavailable(Exception):
    """Required data could not be obtained: the service answers 412."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def expand_template(template: str, context: Mapping[str, Any]) -> str | None:
    """Fill `{{context.x}}` and user tokens; None when a token has no simple value."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        value: Any = None
        if name.startswith("context."):
            value = context.get(name.removeprefix("context."))
        elif name in _USER_TOKENS:
            user = context.get("userId")
            prefix = _USER_TOKENS[name] + "/"
            if isinstance(user, str) and user.startswith(prefix):
                value = user.removeprefix(prefix)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            missing = True
            return ""
        return quote(str(value), safe="")

    text = _TOKEN.sub(fill, template)
    return None if missing else text


def template_type(template: str) -> tuple[str, bool]:
    """(resource type, is a search) of a template like `Observation?patient=...`."""
    path = template.split("?", 1)[0]
    rtype = path.split("/", 1)[0]
    return rtype, "?" in template or "/" not in path


@dataclass
class PatientData:
    """What the hook has about the patient, key by key, and how it got it."""

    patient_id: str
    values: dict[str, Any] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def resources(self) -> list[dict[str, Any]]:
        """Every resource, in prefetch key order (for FHIR intake)."""
        out: list[dict[str, Any]] = []
        for value in self.values.values():
            if not isinstance(value, dict):
                continue
            if value.get("resourceType") == "Bundle":
                out.extend(
                    e["resource"]
                    for e in value.get("entry") or []
                    if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                )
            else:
                out.append(value)
        return out

    def bundle(self) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in self.resources()],
        }


class FhirFetcher:
    """GETs against the client's FHIR server, with its bearer token.

    The HTTP client is only created when a call is actually needed (full prefetch: none).
    """

    def __init__(self, request: HookRequest, config: CdsConfig, client_factory: ClientFactory):
        self.config = config
        self._client_factory = client_factory
        self._client: httpx.AsyncClient | None = None
        self.base = (request.fhir_server or "").rstrip("/")
        auth = request.fhir_authorization
        self.headers = {"accept": "application/fhir+json, application/json"}
        self.usable_reason: str | None = None
        if not self.base:
            self.usable_reason = "no fhirServer in the request"
        else:
            self.usable_reason = _server_refused(self.base, config)
        if auth is not None:
            if auth.expires_in is not None and auth.expires_in <= 0:
                self.usable_reason = "fhirAuthorization has already expired"
            self.headers["authorization"] = "Bearer " + auth.access_token.get_secret_value()

    @property
    def usable(self) -> bool:
        return self.usable_reason is None

    async def get(self, relative: str) -> dict[str, Any]:
        return await self._get_url(f"{self.base}/{relative.lstrip('/')}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _get_url(self, url: str) -> dict[str, Any]:
        if self._client is None:
            self._client = self._client_factory()
        response = await self._client.get(
            url,
            headers=self.headers,
            timeout=self.config.fhir_timeout_seconds,
            follow_redirects=False,
        )
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ValueError("response too large")
        try:
            body = response.json()
        except ValueError:
            raise ValueError("response is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
            raise ValueError("response is not a FHIR resource")
        return body

    async def complete_bundle(self, bundle: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Follow `next` links on the same server; (merged bundle, problem or None)."""
        entries = list(bundle.get("entry") or [])
        current = bundle
        for _ in range(self.config.fhir_max_pages):
            next_url = _next_link(current)
            if next_url is None:
                return _merged(bundle, entries), None
            if not _same_origin(next_url, self.base):
                return _merged(bundle, entries), "next page is on another server: not followed"
            current = await self._get_url(next_url)
            if current.get("resourceType") != "Bundle":
                raise ValueError("next page is not a Bundle")
            entries.extend(current.get("entry") or [])
        return _merged(bundle, entries), f"more than {self.config.fhir_max_pages} pages"


async def resolve_prefetch(
    service: Service,
    request: HookRequest,
    config: CdsConfig,
    client_factory: ClientFactory = default_client,
) -> PatientData:
    fetcher = FhirFetcher(request, config, client_factory)
    try:
        return await _resolve(service, request, fetcher)
    finally:
        await fetcher.aclose()


async def _resolve(service: Service, request: HookRequest, fetcher: FhirFetcher) -> PatientData:
    patient_id = request.context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise PrefetchUnavailable("context.patientId", "missing")
    data = PatientData(patient_id=patient_id)
    sent = request.prefetch or {}
    to_fetch: dict[str, str] = {}
    for key, template in service.prefetch.items():
        rtype, is_search = template_type(template)
        if key in sent:
            value = sent[key]
            if value is None:
                data.values[key] = None  # the client has no data: unknown
                continue
            if _is_outcome(value) or not _shaped(value, rtype, is_search):
                reason = "OperationOutcome" if _is_outcome(value) else "unexpected shape"
                data.problems.append(f"{key}: prefetch sent {reason}; fetched instead")
            else:
                if is_search and _next_link(value) is not None:
                    value = await _complete_sent_bundle(key, value, fetcher, data)
                data.values[key] = _own_patient(key, value, patient_id, data)
                continue
        query = expand_template(template, request.context)
        if query is None:
            data.problems.append(f"{key}: template tokens could not be filled")
            data.values[key] = None
            continue
        to_fetch[key] = query

    if to_fetch:
        if not fetcher.usable:
            required = sorted(REQUIRED_KEYS & to_fetch.keys())
            if required:
                raise PrefetchUnavailable(required[0], fetcher.usable_reason or "unavailable")
            for key in to_fetch:
                data.values[key] = None
                data.problems.append(f"{key}: not in prefetch and {fetcher.usable_reason}")
        else:
            results = await asyncio.gather(
                *(_fetch_key(fetcher, key, query, service) for key, query in to_fetch.items())
            )
            for key, (value, error, note) in zip(to_fetch, results, strict=True):
                if error is not None:
                    if key in REQUIRED_KEYS:
                        raise PrefetchUnavailable(key, error)
                    data.problems.append(f"{key}: {error}")
                    data.values[key] = None
                else:
                    if note:
                        data.problems.append(f"{key}: {note}")
                    data.values[key] = _own_patient(key, value, patient_id, data)
                    data.fetched.append(key)
    # Keep the service's key order whatever the fetch order was.
    data.values = {k: data.values.get(k) for k in service.prefetch}
    return data


async def _fetch_key(
    fetcher: FhirFetcher, key: str, query: str, service: Service
) -> tuple[Any, str | None, str | None]:
    """(value, error, note): an error means no usable value; a note qualifies a value."""
    rtype, is_search = template_type(service.prefetch[key])
    try:
        value = await fetcher.get(query)
        if not _shaped(value, rtype, is_search):
            expected = "a Bundle" if is_search else rtype
            got = value.get("resourceType")
            return None, f"fhirServer returned {got}, expected {expected}", None
        note = None
        if is_search:
            value, note = await fetcher.complete_bundle(value)
        return value, None, note
    except httpx.TimeoutException:
        return None, "fhirServer timed out", None
    except httpx.HTTPError as exc:
        return None, f"fhirServer unreachable ({type(exc).__name__})", None
    except ValueError as exc:
        return None, f"fhirServer answer unusable ({exc})", None


async def _complete_sent_bundle(
    key: str, bundle: dict[str, Any], fetcher: FhirFetcher, data: PatientData
) -> dict[str, Any]:
    if not fetcher.usable:
        data.problems.append(f"{key}: prefetch is paginated and {fetcher.usable_reason}")
        return bundle
    try:
        merged, note = await fetcher.complete_bundle(bundle)
    except (httpx.HTTPError, ValueError) as exc:
        data.problems.append(f"{key}: later pages could not be fetched ({type(exc).__name__})")
        return bundle
    if note:
        data.problems.append(f"{key}: {note}")
    return merged


def _merged(bundle: dict[str, Any], entries: list[Any]) -> dict[str, Any]:
    merged = {k: v for k, v in bundle.items() if k != "link"}
    merged["entry"] = entries
    return merged


def _is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _shaped(value: Any, rtype: str, is_search: bool) -> bool:
    if not isinstance(value, dict):
        return False
    expected = "Bundle" if is_search else rtype
    return value.get("resourceType") == expected


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _server_refused(base: str, config: CdsConfig) -> str | None:
    parts = urlsplit(base)
    if parts.scheme == "http" and not config.fhir_allow_http:
        return "fhirServer is not https"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "fhirServer is not an http(s) URL"
    if parts.username or parts.password:
        return "fhirServer must not carry credentials"
    if config.fhir_servers and not any(base.startswith(p.rstrip("/")) for p in config.fhir_servers):
        return "fhirServer is not on the allowlist"
    return None


_PATIENT_REFS = ("subject", "patient")


def _own_patient(key: str, value: Any, patient_id: str, data: PatientData) -> Any:
    """Drop bundle entries about another patient (never mix two patients' data)."""
    if not isinstance(value, dict):
        return value
    if value.get("resourceType") == "Patient":
        if value.get("id") not in (None, patient_id):
            data.problems.append(f"{key}: Patient/{value.get('id')} is not the patient in context")
            return None
        return value
    if value.get("resourceType") != "Bundle":
        return value
    wanted = {f"Patient/{patient_id}", patient_id}
    kept, dropped = [], 0
    for entry in value.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "OperationOutcome":
            continue  # search-mode outcomes carry no patient data
        refs = [
            resource[name].get("reference")
            for name in _PATIENT_REFS
            if isinstance(resource.get(name), dict)
        ]
        if any(isinstance(r, str) and r.split("/_history")[0] not in wanted for r in refs):
            dropped += 1
            continue
        kept.append(entry)
    if dropped:
        data.problems.append(f"{key}: {dropped} resource(s) for another patient ignored")
    return {**value, "entry": kept}

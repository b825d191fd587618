"""Helpers shared by the CDS Hooks tests and the hooks benchmark (not fixtures)."""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from medplum_server import unique_ids
from mock_ehr import MockEhr

from allguide.cdshooks.config import CdsConfig, TrustedIssuer
from allguide.cdshooks.router import create_router
from allguide.cdshooks.store import MemoryStore
from allguide.knowledge.pack import ContentPack

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
EXAMPLES = ROOT / "examples" / "fhir"
PUBLIC_URL = "https://allguide.test"
BROWSER_ORIGIN = "https://ehr-browser.test"
TENANT_ISS = "https://tenant-ehr.mock.test"


def example_bundles() -> dict[str, dict[str, Any]]:
    """Patient id -> bundle, from examples/fhir and our own data files."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted([*EXAMPLES.glob("*.json"), *DATA.glob("*-bundle.json")]):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        if bundle.get("resourceType") != "Bundle":
            continue
        out[path.stem] = unique_ids(bundle, path.stem)
    return out


def bundle_resources(name: str) -> list[dict[str, Any]]:
    bundle = example_bundles()[name]
    return [e["resource"] for e in bundle["entry"]]


def prefetch_for(name: str, patient_id: str) -> dict[str, Any]:
    """Full prefetch for one example patient, built without a server (as an EHR would)."""
    resources = bundle_resources(name)

    def about(r: dict[str, Any]) -> bool:
        ref = (r.get("subject") or r.get("patient") or {}).get("reference")
        return ref == f"Patient/{patient_id}"

    def search(rtype: str) -> dict[str, Any]:
        found = [r for r in resources if r["resourceType"] == rtype and about(r)]
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }

    patient = next(r for r in resources if r["resourceType"] == "Patient" and r["id"] == patient_id)
    return {
        "patient": patient,
        "observations": search("Observation"),
        "conditions": search("Condition"),
        "allergies": search("AllergyIntolerance"),
    }


def cds_config(ehr: MockEhr, tenant_ehr: MockEhr, **overrides: Any) -> CdsConfig:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "issuers": (
            TrustedIssuer(
                iss=ehr.iss, jwks_url=ehr.jwks_url, algorithms=("ES384", "RS384", "ES256")
            ),
            TrustedIssuer(
                iss=tenant_ehr.iss,
                jwks_url=tenant_ehr.jwks_url,
                algorithms=("ES384",),
                tenants=("org-a",),
                services=("allguide-patient-view",),
            ),
        ),
        "cors_origins": (BROWSER_ORIGIN,),
        "fhir_allow_http": True,
        "fhir_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return CdsConfig(**values)


def bare_app(config: CdsConfig, pack: ContentPack, store: MemoryStore | None = None) -> FastAPI:
    app = FastAPI()
    app.include_router(create_router(config=config, pack=pack, store=store or MemoryStore()))
    return app


def url(service_id: str | None = None, *, feedback: bool = False) -> str:
    if service_id is None:
        return f"{PUBLIC_URL}/cds-services"
    return f"{PUBLIC_URL}/cds-services/{service_id}" + ("/feedback" if feedback else "")


_RAW_HTML = re.compile(r"(?<!\\)<(?!https?://)[a-zA-Z/!]")  # an escaped \< is text


def assert_valid_cards(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Structural checks of a CDS Hooks response (the spec's card rules and invariants)."""
    assert set(body) <= {"cards", "systemActions"}, body.keys()
    assert "systemActions" not in body, "allguide never applies changes automatically"
    cards = body["cards"]
    assert isinstance(cards, list)
    for card in cards:
        uuid.UUID(card["uuid"])
        assert 0 < len(card["summary"]) < 140, card["summary"]
        assert "\n" not in card["summary"]
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        if "url" in card["source"]:
            assert card["source"]["url"].startswith(("https://", "http://"))
        assert not _RAW_HTML.search(card.get("detail", "")), card.get("detail")
        for key in ("suggestions", "links", "overrideReasons"):
            assert card.get(key, None) != [], f"{key} must be omitted, not empty"
        if card.get("suggestions"):
            assert card["selectionBehavior"] in ("at-most-one", "any")  # cds-resp-6
            for s in card["suggestions"]:
                assert s["label"]
                uuid.UUID(s["uuid"])
                for action in s.get("actions", []):
                    assert action["type"] in ("create", "update", "delete")
                    assert action["description"]  # cds-resp-5
        for link in card.get("links", []):
            assert link["type"] in ("absolute", "smart")
            assert link["url"].startswith("https://")
            assert "appContext" not in link or link["type"] == "smart"  # cds-resp-3
            assert not link.get("autolaunchable")
        for reason in card.get("overrideReasons", []):
            assert reason["display"]  # cds-resp-4
        assert all(v not in (None, "", [], {}) for v in card.values()), card
    return list(cards)


def real_app(ehr: MockEhr, tenant_ehr: MockEhr, tmp: Path) -> FastAPI:
    """The deployed app (web.app.create_app) configured for the mock EHRs."""
    from allguide.web.app import create_app
    from allguide.web.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp / 'allguide.db'}",
        var_dir=tmp,
        public_url=PUBLIC_URL,
        cors_origins=(BROWSER_ORIGIN,),
        ask_semantic=False,  # the hooks do not use the ask index: skip the embeddings
        cds={
            "issuers": [
                ehr.issuer_settings(algorithms=["ES384", "RS384", "ES256"]),
                tenant_ehr.issuer_settings(algorithms=["ES384"], tenants=["org-a"]),
            ]
        },
    )
    previous = os.environ.get("ALLGUIDE_CDS_FHIR_ALLOW_HTTP")
    os.environ["ALLGUIDE_CDS_FHIR_ALLOW_HTTP"] = "1"  # the Medplum server is plain http
    try:
        return create_app(settings)
    finally:
        if previous is None:
            os.environ.pop("ALLGUIDE_CDS_FHIR_ALLOW_HTTP", None)
        else:
            os.environ["ALLGUIDE_CDS_FHIR_ALLOW_HTTP"] = previous

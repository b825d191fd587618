"""A mock EHR: the CDS Hooks *client* side, for tests and the benchmark.

No packaged CDS Hooks client can be installed here, so this plays the EHR:
- generates fresh signing keys at start (EC P-384 for ES384, RSA-3072 for RS384, EC P-256
  for ES256, the sandbox's choice) — private keys never touch the disk;
- serves its JWK Set over real HTTP on loopback (`jwks_url`), counting fetches;
- signs one JWT per call as the spec says: header `alg`, `kid`, `typ: JWT`, optional `jku`;
  claims `iss`, `aud` (the exact URL called), `exp` (≤ 5 min), `iat`, `jti`, optional
  `sub`/`nbf`/`tenant` (sandbox and Epic-like profiles);
- builds hook requests (patient-view, order-select, order-sign), with prefetch filled from
  a FHIR server, partly omitted, null, or an OperationOutcome;
- and forges the tokens a service must refuse (`alg: none`, HMAC with the public key as
  secret, expired, wrong audience, ...).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ALGORITHMS = ("ES384", "RS384", "ES256")
DEFAULT_ISS = "https://ehr.mock.test"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    alg: str
    kid: str
    private_key: Any
    public_jwk: dict[str, Any]

    @classmethod
    def generate(cls, alg: str) -> SigningKey:
        private: Any
        if alg == "ES384":
            private = ec.generate_private_key(ec.SECP384R1())
        elif alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg in ("RS384", "RS256", "PS384"):
            private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        else:
            raise ValueError(f"no key generator for {alg}")
        algo = jwt.get_algorithm_by_name(alg)
        jwk = json.loads(algo.to_jwk(private.public_key()))
        kid = f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        return cls(alg=alg, kid=kid, private_key=private, public_jwk=jwk)

    def public_pem(self) -> bytes:
        return bytes(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


class _JwksHandler(BaseHTTPRequestHandler):
    server: _JwksServer

    def do_GET(self) -> None:
        self.server.fetches += 1
        if self.path.split("?")[0] != "/.well-known/jwks.json" or self.server.down:
            self.send_response(503 if self.server.down else 404)
            self.end_headers()
            return
        body = json.dumps({"keys": self.server.keys}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _JwksServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _JwksHandler)
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False


@dataclass
class MockEhr:
    """One EHR identity (`iss`) with its keys, JWKS server and request builders."""

    iss: str = DEFAULT_ISS
    algorithms: tuple[str, ...] = ALGORITHMS
    keys: dict[str, SigningKey] = field(default_factory=dict)
    _server: _JwksServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> MockEhr:
        for alg in self.algorithms:
            self.keys[alg] = SigningKey.generate(alg)
        self._server = _JwksServer()
        self._server.keys = [k.public_jwk for k in self.keys.values()]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ JWKS

    @property
    def jwks_url(self) -> str:
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/.well-known/jwks.json"

    @property
    def jwks_fetches(self) -> int:
        assert self._server is not None
        return self._server.fetches

    def set_jwks_down(self, down: bool) -> None:
        assert self._server is not None
        self._server.down = down

    def rotate(self, alg: str) -> SigningKey:
        """A new key for `alg`, published in the JWKS next to the old ones."""
        assert self._server is not None
        key = SigningKey.generate(alg)
        self.keys[alg] = key
        self._server.keys = [*self._server.keys, key.public_jwk]
        return key

    def issuer_settings(self, **overrides: Any) -> dict[str, Any]:
        """This EHR as an entry of the service's issuer allowlist."""
        return {
            "iss": self.iss,
            "jwks_url": self.jwks_url,
            "algorithms": list(self.algorithms),
            **overrides,
        }

    # ------------------------------------------------------------------ tokens

    def token(
        self,
        aud: str | list[str],
        *,
        alg: str = "ES384",
        lifetime: int = 300,
        iat: float | None = None,
        jti: str | None = None,
        jku: bool = True,
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """A spec-conformant JWT for one call (`claims` add or override; `drop` removes)."""
        signer = key or self.keys[alg]
        now = int(time.time() if iat is None else iat)
        payload: dict[str, Any] = {
            "iss": self.iss,
            "aud": aud,
            "exp": now + lifetime,
            "iat": now,
            "jti": jti or str(uuid.uuid4()),
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if k not in drop}
        header: dict[str, Any] = {"kid": signer.kid, "typ": "JWT"}
        if jku:
            header["jku"] = self.jwks_url
        header.update(headers or {})
        return jwt.encode(payload, signer.private_key, algorithm=signer.alg, headers=header)

    def sandbox_token(self, aud: str) -> str:
        """The CDS Hooks sandbox's profile: ES256, with `sub`, 5-minute lifetime."""
        return self.token(aud, alg="ES256", sub="sandbox-client", lifetime=300)

    def epic_like_token(self, aud: str) -> str:
        """An Epic-like profile: RS384 with `sub` and `nbf`, 15-minute lifetime."""
        now = int(time.time())
        return self.token(aud, alg="RS384", sub="epic-client", nbf=now, lifetime=900)

    def unsigned_token(self, aud: str) -> str:
        """`alg: none` with an empty signature."""
        header = {"alg": "none", "typ": "JWT", "kid": self.keys["ES384"].kid}
        return self._forge(header, self._claims(aud), b"")

    def hmac_token(self, aud: str, alg: str = "RS384") -> str:
        """Key confusion: HS256 'signed' with the public key (PEM) as the HMAC secret."""
        key = self.keys[alg]
        header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
        signing_input = self._signing_input(header, self._claims(aud))
        signature = hmac.new(key.public_pem(), signing_input, hashlib.sha256).digest()
        return signing_input.decode() + "." + b64url(signature)

    def _claims(self, aud: str) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.iss, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}

    @staticmethod
    def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> bytes:
        parts = [json.dumps(x, separators=(",", ":")).encode() for x in (header, claims)]
        return (b64url(parts[0]) + "." + b64url(parts[1])).encode()

    def _forge(self, header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
        return self._signing_input(header, claims).decode() + "." + b64url(signature)

    # ------------------------------------------------------------------ requests

    @staticmethod
    def hook_request(
        hook: str,
        patient_id: str,
        *,
        prefetch: Mapping[str, Any] | None = None,
        draft_orders: list[dict[str, Any]] | None = None,
        selections: list[str] | None = None,
        fhir_server: str | None = None,
        access_token: str | None = None,
        user_id: str = "Practitioner/example",
    ) -> dict[str, Any]:
        context: dict[str, Any] = {"userId": user_id, "patientId": patient_id}
        if hook in ("order-select", "order-sign"):
            context["draftOrders"] = {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": copy.deepcopy(r)} for r in draft_orders or []],
            }
        if hook == "order-select":
            context["selections"] = selections or [
                f"MedicationRequest/{r['id']}" for r in draft_orders or []
            ]
        body: dict[str, Any] = {
            "hookInstance": str(uuid.uuid4()),
            "hook": hook,
            "context": context,
        }
        if fhir_server:
            body["fhirServer"] = fhir_server
        if access_token:
            body["fhirAuthorization"] = {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/Patient.read patient/Observation.read patient/Condition.read",
                "subject": "allguide",
                "patient": patient_id,
            }
        if prefetch is not None:
            body["prefetch"] = dict(prefetch)
        return body

    @staticmethod
    def prefetch_from(
        fhir_base: str, templates: Mapping[str, str], patient_id: str, token: str | None = None
    ) -> dict[str, Any]:
        """Run the service's prefetch templates against a FHIR server, as an EHR would."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        out: dict[str, Any] = {}
        with httpx.Client(timeout=10) as client:
            for key, template in templates.items():
                url = (
                    fhir_base.rstrip("/")
                    + "/"
                    + template.replace("{{context.patientId}}", patient_id)
                )
                response = client.get(url, headers=headers)
                out[key] = response.json() if response.status_code == 200 else None
        return out

    @staticmethod
    def feedback(
        card_uuid: str,
        outcome: str = "overridden",
        *,
        suggestion: str | None = None,
        reason_code: str | None = "patient-specific",
        comment: str | None = None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "card": card_uuid,
            "outcome": outcome,
            "outcomeTimestamp": "2026-11-22T10:15:00Z",
        }
        if outcome == "accepted":
            item["acceptedSuggestions"] = [{"id": suggestion or str(uuid.uuid4())}]
        else:
            reason: dict[str, Any] = {}
            if reason_code:
                reason["reason"] = {
                    "system": "urn:allguide:cds:override-reason",
                    "code": reason_code,
                    "display": "Patient-specific clinical reason",
                }
            if comment:
                reason["userComment"] = comment
            item["overrideReason"] = reason
        return {"feedback": [item]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}

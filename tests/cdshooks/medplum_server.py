"""Start the real FHIR test server (tools/fhir-test-server: Medplum's FHIR router with its
in-memory repository) on a free loopback port, seeded with FHIR bundles.

Used by the test fixtures and the hooks benchmark. Installs the npm packages with
`npm ci` when `node_modules` is missing, and fails loudly when node or npm is absent:
the `fhirServer` fallback must be tested against a real server, not a stub.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "tools" / "fhir-test-server"
START_TIMEOUT_S = 60


class FhirServerUnavailable(RuntimeError):
    pass


@dataclass
class FhirServer:
    base_url: str
    token: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    @property
    def root_url(self) -> str:
        return self.base_url.split("/fhir/")[0]


def ensure_installed() -> None:
    if shutil.which("node") is None:
        raise FhirServerUnavailable("node is not installed; the FHIR test server needs Node 20+")
    if (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise FhirServerUnavailable(
            "npm is not installed, so tools/fhir-test-server cannot be set up; install Node "
            "and npm, then run: npm ci --prefix tools/fhir-test-server"
        )
    result = subprocess.run(
        [npm, "ci", "--prefix", str(SERVER_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise FhirServerUnavailable(f"npm ci failed:\n{result.stdout}\n{result.stderr}")


def start(bundles: Iterable[Path], *, token: str = "fhir-test-token") -> FhirServer:
    ensure_installed()
    command = ["node", str(SERVER_DIR / "server.mjs"), "--port", "0", "--token", token]
    command += [str(b) for b in bundles]
    process = subprocess.Popen(
        command,
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NODE_ENV": "test"},
    )
    assert process.stdout is not None and process.stderr is not None
    line = _read_line(process.stdout, START_TIMEOUT_S)
    if not line:
        process.kill()
        error = process.stderr.read()
        raise FhirServerUnavailable(f"FHIR test server did not start:\n{error}")
    info: dict[str, Any] = json.loads(line)
    # Drain stderr in the background so a chatty server never blocks on a full pipe.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return FhirServer(base_url=info["listening"], token=token, process=process)


def _read_line(stream: IO[str], timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0].strip() if result else ""


def unique_ids(bundle: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Prefix non-Patient ids so several example bundles can share one server."""
    out = json.loads(json.dumps(bundle))
    for entry in out.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") != "Patient" and resource.get("id"):
            resource["id"] = f"{prefix}-{resource['id']}"
    return out

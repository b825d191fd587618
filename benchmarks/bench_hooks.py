"""CDS Hooks latency under load: order-sign and patient-view with full prefetch.

The app (`web.app.create_app`, SQLite database) runs under uvicorn in its own process on a
free loopback port; this process plays the EHR (mock EHR from tests/cdshooks: its JWKS on
loopback, one pre-signed ES384 JWT with a unique jti per request) and drives 16 concurrent
clients. Target (issue #5): p95 ≤ 100 ms at 16 concurrent clients on loopback.

    python benchmarks/bench_hooks.py [--requests 800] [--concurrency 16]

Each patient-view call builds a plan, stores it and appends an audit entry; each order-sign
call checks the draft orders and appends an audit entry (as in production).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cdshooks"))

from cds_helpers import DATA, prefetch_for  # noqa: E402
from mock_ehr import MockEhr  # noqa: E402

ORDER_NAMES = ("vincristine_intrathecal", "methotrexate_intrathecal", "dexamethasone_high")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(ehr: MockEhr, port: int, tmp: Path) -> dict[str, str]:
    public = f"http://127.0.0.1:{port}"
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp),
        "ALLGUIDE_PUBLIC_URL": public,
        "ALLGUIDE_SECURE_COOKIES": "false",
        "ALLGUIDE_ASK_SEMANTIC": "false",
        "ALLGUIDE_CDS_ISSUERS": json.dumps([ehr.issuer_settings()]),
    }


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and import the content once, before the workers start (several workers
    starting on an empty SQLite database would all try to import it)."""
    from allguide.web.app import prepare_database
    from allguide.web.settings import Settings

    db = prepare_database(Settings.from_env(env))
    db.dispose()


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "allguide.web.app:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/cds-services", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not become ready")


def bodies() -> dict[str, dict[str, Any]]:
    orders = json.loads((DATA / "draft-orders.json").read_text(encoding="utf-8"))
    prefetch = prefetch_for("child-b-all-bundle", "child-1")
    return {
        "allguide-patient-view": MockEhr.hook_request("patient-view", "child-1", prefetch=prefetch),
        "allguide-order-sign": MockEhr.hook_request(
            "order-sign",
            "child-1",
            prefetch=prefetch,
            draft_orders=[orders[n] for n in ORDER_NAMES],
        ),
    }


Job = tuple[str, bytes, str]  # (service id, body, JWT)


def make_jobs(base: str, ehr: MockEhr, total: int, alg: str = "ES384") -> list[Job]:
    """Every request, pre-signed (unique jti each) so signing is not measured."""
    templates = bodies()
    services = list(templates)
    jobs: list[Job] = []
    for i in range(total):
        service = services[i % len(services)]
        token = ehr.token(f"{base}/cds-services/{service}", alg=alg)
        jobs.append((service, json.dumps(templates[service]).encode(), token))
    return jobs


async def run_load(base: str, jobs: list[Job], concurrency: int) -> dict[str, list[float]]:
    services = list(dict.fromkeys(service for service, _, _ in jobs))
    queue: asyncio.Queue[tuple[str, bytes, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: dict[str, list[float]] = {s: [] for s in services}
    failures: list[str] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                service, body, token = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await client.post(
                f"/cds-services/{service}",
                content=body,
                headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            )
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or not response.json()["cards"]:
                failures.append(f"{service}: {response.status_code} {response.text[:200]}")
            latencies[service].append(elapsed)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, first: {failures[0]}")
    return latencies


def cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and its children (Linux /proc), in seconds.

    The machine may be shared, so wall-clock latency also measures other people's load;
    the server's own CPU per request does not."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root or ppid == root:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def client_cpu_seconds() -> float:
    """This process's CPU time: the load generator shares the machine's cores with the
    server, so a busy client shows up as server latency."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, values: list[float]) -> str:
    return (
        f"{name:24} n={len(values):5d}  p50={statistics.median(values):6.1f} ms  "
        f"p95={percentile(values, 95):6.1f} ms  p99={percentile(values, 99):6.1f} ms  "
        f"max={max(values):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--alg", choices=["ES384", "RS384", "ES256"], default="ES384")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (the jti replay cache is per process)",
    )
    args = parser.parse_args()

    ehr = MockEhr(algorithms=(args.alg,)).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(ehr, port, Path(tmp))
        prepare_database(env)
        server = start_server(env, port, args.workers)
        try:
            wait_ready(base, server)
            warmup = make_jobs(base, ehr, args.warmup, args.alg)
            asyncio.run(run_load(base, warmup, args.concurrency))
            jobs = make_jobs(base, ehr, args.requests, args.alg)
            started, cpu_before = time.perf_counter(), cpu_seconds(server.pid)
            client_before = client_cpu_seconds()
            latencies = asyncio.run(run_load(base, jobs, args.concurrency))
            wall = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            client_cpu = client_cpu_seconds() - client_before
        finally:
            server.terminate()
            server.wait(timeout=10)
            ehr.stop()
    everything = [v for values in latencies.values() for v in values]
    print(
        f"{args.requests} requests, {args.concurrency} concurrent clients, full prefetch, "
        f"{args.alg} JWTs, {args.workers} uvicorn worker(s), load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    for name, values in latencies.items():
        print(report(name, values))
    print(report("all hooks", everything))
    print(f"throughput: {len(everything) / wall:.1f} requests/s over {wall:.1f} s")
    per_request = cpu / len(everything) * 1000
    print(
        f"server CPU per request: {per_request:.1f} ms (so one idle core serves about "
        f"{1000 / per_request:.0f} requests/s)"
    )
    print(
        f"client CPU per request: {client_cpu / len(everything) * 1000:.1f} ms "
        f"({client_cpu / wall * 100:.0f}% of one core; token signing is done before the clock)"
    )
    p95 = percentile(everything, 95)
    print(f"target p95 ≤ 100 ms: {'met' if p95 <= 100 else 'NOT met'} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()

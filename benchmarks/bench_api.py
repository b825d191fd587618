"""REST API throughput: `POST /api/v1/plans` against the trivial `GET /api/v1/ping`.

Starts `allguide serve` (uvicorn, one worker, a fresh SQLite file in a temporary
directory, port chosen free) and drives it with 16 concurrent keep-alive connections,
first against the ping endpoint, then against plan creation, for N seconds each.

Targets (issue #4): plans/s ÷ ping/s ≥ 0.5, and p95 latency of plans ≤ 50 ms.

Load generator: a small asyncio HTTP/1.1 client written on raw streams (not locust or
httpx). Both the server and the client share this machine's cores; the raw client costs a
few tens of microseconds per request, so the figures measure the server, not the client.

Each plan request carries a different patient (weight, height and WBC vary), so no
request is answered from the server's cache of rendered plans; `--same-patient` sends one
patient over and over instead. Every response is checked (status 200/201), and the run
fails on any error.

Server settings for both endpoints: rate limits off (the benchmark is one client address),
log level warning (the per-request access log line is INFO), semantic ask index off
(it would warm up in the background during the run; plans do not use it).

    python benchmarks/bench_api.py [--seconds 10] [--concurrency 16] [--profile]

`--profile` runs the server under cProfile (main thread, start-up included) and prints
the functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.5
TARGET_P95_MS = 50.0


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds, all server processes

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<24} {len(self.latencies):>7} req  {self.rps:>8.1f} req/s  "
            f"p50 {self.pct(0.50):6.1f} ms  p95 {self.pct(0.95):6.1f} ms  "
            f"p99 {self.pct(0.99):6.1f} ms  mean {statistics.fmean(self.latencies) * 1000:6.1f} ms"
        )


def patients(same: bool) -> Iterator[bytes]:
    """Request bodies: distinct children with B-ALL (or one, with --same-patient)."""
    i = 0
    while True:
        k = 0 if same else i
        body = {
            "patient": {
                "age_years": 3 + k % 7,
                "sex": "female" if k % 2 else "male",
                "lineage": "B",
                "weight_kg": Decimal(12) + Decimal(k % 400) / 20,
                "height_cm": 90 + k % 40,
                "wbc_x10e9_per_l": Decimal(5) + Decimal(k % 300) / 10,
                "bcr_abl1": "negative",
                "cns_status": "CNS1",
            },
            "start_date": "2026-01-05",
        }
        yield json.dumps(body, default=float).encode()
        i += 1


def _request(method: str, path: str, host: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        lname = name.strip().lower()
        if lname == "content-length":
            length = int(value)
        elif lname == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, body
    return status, await reader.readexactly(length)


async def _drive(
    url: str,
    name: str,
    method: str,
    path: str,
    bodies: Iterator[bytes] | None,
    seconds: float,
    concurrency: int,
    expect: int,
) -> Result:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = Result(name, seconds)
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                body = next(bodies) if bodies is not None else None
                started = time.perf_counter()
                writer.write(_request(method, path, f"{host}:{port}", body))
                status, payload = await _read_response(reader)
                elapsed = time.perf_counter() - started
                if status != expect:
                    result.errors.append(f"{status}: {payload[:200]!r}")
                    continue
                result.latencies.append(elapsed)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def start_server(tmp: Path, profile: bool, workers: int = 1) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp / "var"),
        "ALLGUIDE_RATE_LIMIT_WRITE": "off",
        "ALLGUIDE_RATE_LIMIT_LOGIN": "off",
        "ALLGUIDE_ASK_SEMANTIC": "false",
        "ALLGUIDE_SECURE_COOKIES": "false",
    }
    allguide = Path(sys.executable).parent / "allguide"
    command = [str(allguide), "serve", "--port", "0", "--log-level", "warning"]
    command += ["--workers", str(workers)]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", str(tmp / "profile.out"), *command]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"serving on (http://\S+)", line)
        if match:
            url = match.group(1).rstrip("/")
            _wait_ready(url, workers, deadline)
            return proc, url
    proc.kill()
    raise SystemExit("server did not start:\n" + "".join(seen))


def _wait_ready(url: str, workers: int, deadline: float) -> None:
    """Several workers start after the socket is bound (and the URL printed): wait until
    every worker has loaded (each connection is taken by whichever worker accepts it)."""
    import httpx

    answered = 0
    while answered < 4 * workers and time.monotonic() < deadline:
        try:
            with httpx.Client(timeout=30) as client:  # a new connection each time
                answered += client.get(url + "/api/v1/ping").status_code == 200
        except httpx.TransportError:
            time.sleep(0.2)


def _tree_cpu(pid: int) -> float:
    """CPU seconds used by the server process and its worker processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def run(
    url: str, seconds: float, concurrency: int, same: bool, rounds: int, server_pid: int
) -> tuple[Result, Result]:
    """Ping and plans in alternating rounds, so drift in the machine's load (it is shared)
    affects both endpoints alike."""
    # Warm-up: first requests import lazily loaded code and fill caches.
    await _drive(url, "warm-up ping", "GET", "/api/v1/ping", None, 1, 4, 200)
    await _drive(url, "warm-up plans", "POST", "/api/v1/plans", patients(same), 2, 4, 201)
    ping = Result("GET /api/v1/ping", 0)
    plans = Result("POST /api/v1/plans", 0)
    bodies = patients(same)
    for _ in range(rounds):
        for total, method, path, source, expect in (
            (ping, "GET", "/api/v1/ping", None, 200),
            (plans, "POST", "/api/v1/plans", bodies, 201),
        ):
            cpu_before = _tree_cpu(server_pid)
            part = await _drive(
                url, total.name, method, path, source, seconds / rounds, concurrency, expect
            )
            total.server_cpu += _tree_cpu(server_pid) - cpu_before
            total.seconds += part.seconds
            total.latencies += part.latencies
            total.errors += part.errors
    return ping, plans


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two")
    parser.add_argument("--same-patient", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--profile", action="store_true", help="one worker only")
    args = parser.parse_args()
    if args.profile and args.workers != 1:
        parser.error("--profile needs --workers 1")

    with tempfile.TemporaryDirectory(prefix="allguide-bench-") as tmpdir:
        tmp = Path(tmpdir)
        started = time.perf_counter()
        proc, url = start_server(tmp, args.profile, args.workers)
        print(
            f"server {url} ready in {time.perf_counter() - started:.1f} s "
            f"({args.workers} worker(s), SQLite, {args.concurrency} concurrent connections, "
            f"{args.seconds:g} s per endpoint in {args.rounds} alternating rounds)"
        )
        load_started, client_before = time.perf_counter(), _client_cpu()
        try:
            ping, plans = asyncio.run(
                run(url, args.seconds, args.concurrency, args.same_patient, args.rounds, proc.pid)
            )
        finally:
            stop_server(proc)
        client_share = (_client_cpu() - client_before) / (time.perf_counter() - load_started)
        if args.profile and (tmp / "profile.out").exists():
            import pstats

            pstats.Stats(str(tmp / "profile.out")).sort_stats("tottime").print_stats(25)

    for result in (ping, plans):
        per_request = 1000 * result.server_cpu / max(1, len(result.latencies))
        print(f"{result.line()}  server CPU {per_request:.2f} ms/req")
    ratio = plans.rps / ping.rps
    p95 = plans.pct(0.95)
    print(
        f"ratio plans/ping: {ratio:.2f} (target ≥ {TARGET_RATIO})  "
        f"plans p95: {p95:.1f} ms (target ≤ {TARGET_P95_MS:g} ms)"
    )
    # The client shares the machine's cores with the server: a busy client is server latency.
    print(f"client CPU: {client_share * 100:.0f}% of one core over the run")
    errors = ping.errors + plans.errors
    for error in errors[:5]:
        print("error:", error)
    if errors:
        print(f"{len(errors)} failed request(s)")
        return 1
    return 0 if ratio >= TARGET_RATIO and p95 <= TARGET_P95_MS else 2


if __name__ == "__main__":
    sys.exit(main())

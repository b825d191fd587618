"""pytest plugin: databases for tests, on SQLite and on a real PostgreSQL server.

Fixtures
- `pg_server` (session): a throwaway PostgreSQL started from the Debian binaries in a temp
  dir on a free loopback port (as the `postgres` user via `runuser` when running as root),
  stopped at the end of the session. Started only when a test needs it.
- `db_backend`: "sqlite" or "postgresql"; every fixture below is parametrised over both.
- `database_url`: an empty database (SQLite: a temp file; PostgreSQL: a fresh database).
- `fast_password_hashing`: cheap Argon2 parameters while a test runs.
- `seeded_database_url`: a database already migrated and holding the bundled content pack
  (imported once per session, then cloned per test: a file copy or CREATE DATABASE ...
  TEMPLATE), for tests that do not care about first-start behaviour.

Missing PostgreSQL binaries make the PostgreSQL cases FAIL (never skip) with a message
saying to run `make test-services`. Set ALLGUIDE_PG_BIN to use binaries elsewhere.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BACKENDS = ["sqlite", "postgresql"]
_PG_SEED_DB = "allguide_seed"


def find_pg_bin() -> Path | None:
    """Directory holding initdb/pg_ctl: $ALLGUIDE_PG_BIN, newest Debian version, or PATH."""
    env = os.environ.get("ALLGUIDE_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()],
    )
    if debian:
        return debian[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway PostgreSQL server."""

    bindir: Path
    root: Path
    port: int
    as_postgres: bool  # running as root: server processes run as the `postgres` user
    _watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    user = "postgres"
    host = "127.0.0.1"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # test-only DDL, names are ours

    def create_database(self, name: str, template: str | None = None) -> str:
        tmpl = f' TEMPLATE "{template}"' if template else ""
        # FILE_COPY (PostgreSQL 15+) copies files instead of WAL-logging every block:
        # about 30 ms instead of 500 ms here (fsync is off, so its checkpoint is cheap).
        strategy = " STRATEGY FILE_COPY" if self.version >= 150000 else ""
        self.execute(f'CREATE DATABASE "{name}"{tmpl}{strategy}')
        return self.url(name)

    @functools.cached_property
    def version(self) -> int:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres"
        ) as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        return int(row[0]) if row else 0

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- lifecycle

    def _command(self, *args: str) -> list[str]:
        cmd = [str(a) for a in args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else cmd

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=60, check=False
        )

    @classmethod
    def start(cls, bindir: Path) -> PgServer:
        as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        # RAM-backed when possible: a throwaway server needs no durability, and copying
        # template databases is then IO-free.
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        root = Path(tempfile.mkdtemp(prefix="allguide-pg-", dir=base))
        if as_postgres:
            shutil.chown(root, "postgres", "postgres")
        server = cls(bindir, root, 0, as_postgres)
        init = server._run(
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        last = ""
        for _attempt in range(5):  # a port found free can be taken before the server binds
            server.port = _free_port()
            opts = (
                f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            started = server._run(
                str(bindir / "pg_ctl"),
                "-D",
                str(root / "data"),
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                opts,
                "start",
            )
            if started.returncode == 0:
                server._watchdog = server._start_watchdog()
                return server
            last = started.stderr + _tail(root / "log")
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"PostgreSQL did not start:\n{last}")

    def _start_watchdog(self) -> subprocess.Popen[bytes]:
        """A helper that stops the server if pytest dies without cleaning up (killed,
        crashed), so no orphan postgres keeps holding RAM in /dev/shm."""
        stop = self._command(
            str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"
        )
        return subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.root), *stop],
            start_new_session=True,  # not killed with pytest's process group
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.terminate()
            self._watchdog.wait(timeout=10)
        if (self.root / "data" / "postmaster.pid").exists():
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            )
        shutil.rmtree(self.root, ignore_errors=True)


# Runs in its own process: waits (sleeping, one check a second) for pytest to go away,
# then stops the server and removes its directory. argv: pytest pid, root, stop command.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, root, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while os.getppid() == parent:
    time.sleep(1)
subprocess.run(stop, capture_output=True, timeout=60)
shutil.rmtree(root, ignore_errors=True)
"""


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole session (about a second to start)."""
    bindir = find_pg_bin()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and "
            "PATH): run `make test-services` to install them (Debian package `postgresql`), "
            "or set ALLGUIDE_PG_BIN",
            pytrace=False,
        )
    server = PgServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


_counter = itertools.count(1)


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend (no tables yet)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'allguide.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)  # WITH (FORCE): ends connections a test left open


def _seed(url: str) -> None:
    from allguide.knowledge.pack import DEFAULT_CONTENT_DIR
    from allguide.store import ContentRepository, Database

    db = Database(url)
    try:
        db.migrate()
        with db.session() as session:
            ContentRepository(session).import_pack_if_empty(DEFAULT_CONTENT_DIR)
    finally:
        db.dispose()


@pytest.fixture(scope="session")
def _sqlite_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_seed(pg_server: PgServer) -> str:
    pg_server.create_database(_PG_SEED_DB)
    _seed(pg_server.url(_PG_SEED_DB))
    return _PG_SEED_DB


@pytest.fixture
def seeded_database_url(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A migrated database holding the bundled content pack (version 1, served)."""
    if db_backend == "sqlite":
        seed: Path = request.getfixturevalue("_sqlite_seed")
        path = tmp_path / "allguide.db"
        shutil.copyfile(seed, path)
        yield f"sqlite:///{path}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("_pg_seed")
    name = f"t{os.getpid()}_{next(_counter)}"
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)  # WITH (FORCE): ends connections a test left open


@pytest.fixture
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Cheap Argon2 parameters for tests that create users (the real ones cost ~0.1-0.5 s
    per hash on a busy machine). Use with `pytest.mark.usefixtures("fast_password_hashing")`."""
    from argon2 import PasswordHasher

    import allguide.accounts.passwords as passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    passwords.dummy_hash.cache_clear()
    yield
    passwords.dummy_hash.cache_clear()

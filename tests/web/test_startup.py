"""Start-up: migrations, first-start import, refusing broken content, `allguide serve`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_support import ROOT, make_settings, running

from allguide.cli import app as cli_app
from allguide.web.app import StartupError, create_app, startup_error

BAD = ROOT / "tests" / "fixtures" / "bad_content"


def test_first_start_migrates_and_imports_the_pack(database_url: str, tmp_path: Path) -> None:
    """An empty database (SQLite or PostgreSQL) is migrated and the pack imported."""
    settings = make_settings(database_url, tmp_path / "var")
    with running(settings) as api:
        versions = api.client.get("/api/v1/content-versions").json()
        assert versions["count"] == 1
        assert versions["items"][0]["created_by"] == "system:import"
    with running(settings) as api:  # second start: nothing imported again
        assert api.client.get("/api/v1/content-versions").json()["count"] == 1


def test_refuses_to_start_on_content_errors(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "var", content_dir=BAD)
    app = create_app(settings)
    with pytest.raises(StartupError) as caught, TestClient(app):
        pass
    error = caught.value
    assert "error(s)" in error.message
    assert any("ref.missing" in p for p in error.problems)
    assert len(error.problems) >= 3  # every error is listed, not just the first
    assert startup_error(app) is error
    assert not (tmp_path / "a.db").exists()  # nothing touched before the check passed


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_exits_2_listing_content_errors(tmp_path: Path, workers: str) -> None:
    """With several workers the check runs once, before any worker starts."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp_path / "var"),
        "ALLGUIDE_ASK_SEMANTIC": "false",
    }
    result = CliRunner().invoke(
        cli_app,
        [
            "serve",
            "--port",
            "0",
            "--workers",
            workers,
            "--content",
            str(BAD),
            "--log-level",
            "critical",
        ],
        env=env,
    )
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "ref.missing" in result.output
    assert "Traceback" not in result.output


def test_serve_rejects_a_bad_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["serve", "--port", "0"],
        env={"ALLGUIDE_RATE_LIMIT_WRITE": "lots", "ALLGUIDE_VAR_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "ALLGUIDE_RATE_LIMIT_WRITE" in result.output


def test_serve_workers_and_reload_do_not_mix(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["serve", "--port", "0", "--workers", "2", "--reload"],
        env={"ALLGUIDE_VAR_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "--workers: 2: expected 1 with --reload" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_allguide_serve_runs_and_prints_its_url(tmp_path: Path, workers: str) -> None:
    """The real command: a subprocess on a free port, fresh SQLite, stopped with SIGINT;
    with two workers, both processes answer on the one port."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp_path / "var"),
        "ALLGUIDE_ASK_SEMANTIC": "false",
        "ALLGUIDE_SECURE_COOKIES": "false",
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "allguide"),
            "serve",
            "--port",
            "0",
            "--workers",
            workers,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"serving on (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        assert url, "".join(lines)
        health = None
        while time.monotonic() < deadline and health is None:
            try:  # several workers start after the URL is printed (the socket is bound)
                health = httpx.get(url + "health", timeout=10)
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200
        assert health.json()["status"] == "ok"
        if workers != "1":
            assert len(_children(proc.pid)) >= int(workers)
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_unreachable_database_is_a_clear_start_up_error(tmp_path: Path) -> None:
    settings = make_settings(
        "postgresql://allguide@127.0.0.1:1/allguide", tmp_path / "var", content_dir=ROOT / "content"
    )
    app = create_app(settings)
    with pytest.raises(StartupError) as caught, TestClient(app):
        pass
    assert caught.value.message.startswith("could not start: OperationalError")

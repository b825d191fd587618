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


def test_serve_exits_2_listing_content_errors(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp_path / "var"),
        "ALLGUIDE_ASK_SEMANTIC": "false",
    }
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", "0", "--content", str(BAD), "--log-level", "critical"], env=env
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


def test_allguide_serve_runs_and_prints_its_url(tmp_path: Path) -> None:
    """The real command: a subprocess on a free port, fresh SQLite, stopped with SIGINT."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ALLGUIDE_VAR_DIR": str(tmp_path / "var"),
        "ALLGUIDE_ASK_SEMANTIC": "false",
        "ALLGUIDE_SECURE_COOKIES": "false",
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "allguide"), "serve", "--port", "0"],
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
        health = httpx.get(url + "health", timeout=10)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_unreachable_database_is_a_clear_start_up_error(tmp_path: Path) -> None:
    settings = make_settings(
        "postgresql://allguide@127.0.0.1:1/allguide", tmp_path / "var", content_dir=ROOT / "content"
    )
    app = create_app(settings)
    with pytest.raises(StartupError) as caught, TestClient(app):
        pass
    assert caught.value.message.startswith("could not start: OperationalError")

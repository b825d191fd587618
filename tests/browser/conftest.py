"""Browser tests: Debian's chromium (headless) driven by Playwright against a live server.

The server is the real app under uvicorn, in a thread, on a free loopback port, with a
fresh copy of the seeded SQLite database and two editors: alice (author), bob (reviewer).
Never run `playwright install`: the tests use /usr/bin/chromium (`apt-get install
chromium`); without it they fail with that instruction rather than skip silently.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from browser_accounts import PASSWORD

from allguide.web.app import create_app
from allguide.web.settings import RateLimit, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
USERS = {"alice": "author", "bob": "reviewer"}

OFF = RateLimit(requests=0, period_seconds=1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real browser (deselect with -m 'not browser')"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's browser with `apt-get install chromium`"
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _add_users(settings: Settings) -> None:
    from argon2 import PasswordHasher

    import allguide.accounts.passwords as passwords
    from allguide.store import Database, UserRepository

    with pytest.MonkeyPatch.context() as mp:  # cheap hashing: users must not cost seconds
        mp.setattr(
            passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        db = Database(settings.database_url)
        with db.session() as session:
            repo = UserRepository(session)
            for name, role in USERS.items():
                repo.add(name, PASSWORD, role)
        db.dispose()


@pytest.fixture(scope="session")
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("browser")
    seed: Path = request.getfixturevalue("_sqlite_seed")
    shutil.copyfile(seed, directory / "allguide.db")
    settings = Settings(
        database_url=f"sqlite:///{directory / 'allguide.db'}",
        var_dir=directory / "var",
        secure_cookies=False,  # plain http on loopback
        ask_semantic=False,
        rate_limit_login=OFF,
        rate_limit_write=OFF,
        content_poll_seconds=3600,
    )
    _add_users(settings)
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the allguide server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server

"""`allguide user|audit|db` and `content export` against both database backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from allguide.cli import app
from allguide.store import Database, UserRepository

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("fast_password_hashing")
runner = CliRunner()


def run(url: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database-url", url], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_user_add_token_and_audit_verify(database_url: str) -> None:
    code, out, err = run(
        database_url, "user", "add", "alice", "--role", "author", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert "added author 'alice'" in out and PASSWORD not in out + err

    code, out, err = run(database_url, "user", "token", "alice", "--label", "ci")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("agt_") and "shown once" in err

    db = Database(database_url)
    try:
        with db.session() as s:
            users = UserRepository(s)
            assert users.authenticate("alice", PASSWORD) is not None
            user = users.user_for_token(token)
            assert user is not None and user.username == "alice"
    finally:
        db.dispose()

    code, out, err = run(database_url, "audit", "verify")
    assert code == 0, err
    assert "audit log OK: 2 entries" in out

    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET target = 'user/mallory' WHERE seq = 1"))
    finally:
        db.dispose()
    code, out, err = run(database_url, "audit", "verify")
    assert code == 1
    assert "BROKEN at entry 1" in err and "edited after writing" in err


def test_user_add_prompts_without_echo(database_url: str) -> None:
    code, out, err = run(
        database_url, "user", "add", "rita", "--role", "reviewer", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, err
    assert PASSWORD not in out + err


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "bob", "--role", "author", "--password-stdin"], "short\n", "at least 10"),
        (["user", "add", "bob", "--role", "boss", "--password-stdin"], PASSWORD, "'boss'"),
        (["user", "token", "ghost"], None, "no user 'ghost'"),
    ],
)
def test_friendly_errors(
    database_url: str, args: list[str], stdin: str | None, message: str
) -> None:
    code, out, err = run(database_url, *args, stdin=stdin)
    assert code == 2
    assert message in err + out and "Traceback" not in err + out


def test_bad_database_url_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("mysql://x@y/z", "db", "upgrade")
    assert code == 2 and "unsupported database 'mysql'" in err
    code, _, err = run(f"sqlite:///{tmp_path}/missing.db", "audit", "verify")
    assert code == 2 and "no database file at" in err
    assert not (tmp_path / "missing.db").exists()  # a typo must not create a database
    (tmp_path / "empty.db").touch()
    code, _, err = run(f"sqlite:///{tmp_path}/empty.db", "audit", "verify")
    assert code == 2 and "no allguide schema" in err


def test_db_upgrade_defaults_to_var_sqlite_and_reads_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "upgraded from empty to revision" in result.stdout
    assert (tmp_path / "var" / "allguide.db").exists()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and (tmp_path / "env.db").exists()
    result = runner.invoke(app, ["db", "upgrade"])
    assert "already at revision" in result.stdout

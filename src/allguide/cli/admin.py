"""Administration: `user add|token|list`, `audit verify`, `content export`, `db upgrade`.

Every command takes `--database-url` (or $DATABASE_URL); the default is the SQLite file
`./var/allguide.db` (its directory is created). Commands bring the schema up to date
first, except `audit verify`, which only reads.
Exit codes: 0 success, 1 audit log broken, 2 bad input or unusable database.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from allguide.accounts.roles import Role
from allguide.cli.common import ContentDir, fail
from allguide.defaults import DEFAULT_DATABASE_URL
from allguide.knowledge.pack import DEFAULT_CONTENT_DIR, ContentError

if TYPE_CHECKING:
    from allguide.store import Database

# SQLAlchemy and the store are imported inside the commands: importing them costs about a
# second, which every other command (plan, ask, check) would otherwise pay at start-up.

DatabaseUrl = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        help="SQLAlchemy URL, e.g. sqlite:///var/allguide.db or postgresql://user@host/db",
        show_default=True,
    ),
]

user_app = typer.Typer(no_args_is_help=True, help="Manage editorial accounts and API tokens.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the tamper-evident audit log.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")


def _cli_actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@contextmanager
def _database(url: str, *, migrate: bool = True, must_exist: bool = False) -> Iterator[Database]:
    """Open the database, turning connection and URL problems into a clean exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from allguide.store import Database, DatabaseError

    try:
        if must_exist:
            _require_sqlite_file(url)
        db = Database(url)
    except DatabaseError as exc:
        fail(str(exc))
    try:
        if migrate:
            db.migrate()
        yield db
    except SQLAlchemyError as exc:
        where = db.url.render_as_string(hide_password=True)
        fail(f"database {where}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        db.dispose()


def _require_sqlite_file(url: str) -> None:
    """Reading commands must not create an empty SQLite file for a mistyped path."""
    from allguide.store import DatabaseError
    from allguide.store.db import normalize_url

    parsed = normalize_url(url)
    path = parsed.database or ""
    in_memory = path in ("", ":memory:") or path.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and not in_memory and not Path(path).exists():
        raise DatabaseError(f"no database file at {path}; check --database-url")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: no password on standard input")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


# --------------------------------------------------------------------------- user


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name: lowercase letters, digits, . _ -")],
    role: Annotated[Role, typer.Option("--role", help="What the user may do")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin"),
    ] = False,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the editor")
    ] = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Create an editorial account (the password is never echoed or logged)."""
    from allguide.store import AuditLog, UserError, UserRepository

    password = _read_password(password_stdin)
    with _database(database_url) as db:
        try:
            with db.session() as session:
                user = UserRepository(session).add(
                    username, password, role, display_name=display_name
                )
                AuditLog(session).append(
                    actor=_cli_actor(),
                    action="user.add",
                    target=f"user/{username}",
                    details={"role": user.role.value},
                )
        except UserError as exc:
            fail(str(exc))
    typer.echo(f"added {user.role.value} '{user.username}'")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="Account that will own the token")],
    label: Annotated[str, typer.Option("--label", help="What the token is for")] = "api",
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Issue an API token. It is printed once; only its hash is stored."""
    from allguide.store import AuditLog, UserError, UserRepository

    with _database(database_url) as db:
        try:
            with db.session() as session:
                token, record = UserRepository(session).issue_token(username, label=label)
                AuditLog(session).append(
                    actor=_cli_actor(),
                    action="user.token",
                    target=f"user/{username}",
                    details={"token_id": record.id, "label": record.label},
                )
        except UserError as exc:
            fail(str(exc))
    typer.echo(f"API token {record.id} for '{username}' (shown once, keep it secret):", err=True)
    typer.echo(token)


@user_app.command("list")
def user_list(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """List accounts and their roles."""
    from allguide.store import UserRepository

    with _database(database_url) as db, db.session() as session:
        for user in UserRepository(session).all():
            state = "" if user.active else "  (disabled)"
            typer.echo(f"{user.username}\t{user.role.value}{state}")


# --------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Recompute the audit hash chain: exit 0 when intact, 1 naming the first bad entry."""
    from allguide.store import AuditLog

    with _database(database_url, migrate=False, must_exist=True) as db:
        if db.current_revision() is None:
            fail(
                f"{db.url.render_as_string(hide_password=True)} has no allguide schema; "
                "check --database-url (or run 'allguide db upgrade')"
            )
        with db.session() as session:
            report = AuditLog(session).verify_report()
    if report.ok:
        typer.echo(f"audit log OK: {report.entries} entries, head {report.head_hash}")
        return
    typer.echo(
        f"audit log BROKEN at entry {report.first_bad_seq}: {report.reason} "
        f"({report.entries} entries before it are intact)",
        err=True,
    )
    raise typer.Exit(1)


# --------------------------------------------------------------------------- content


def content_export(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write (same layout as content/)")
    ],
    content: ContentDir = DEFAULT_CONTENT_DIR,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Write the served content pack from the database back to YAML files.

    Files nobody changed are written byte for byte as imported. A database without
    content first imports --content, as `allguide serve` does on its first start.
    """
    from allguide.store import ContentRepository

    with _database(database_url) as db:
        try:
            with db.session() as session:
                repo = ContentRepository(session)
                repo.import_pack_if_empty(content)
                result = repo.export(out)
        except ContentError as exc:
            typer.echo("error: content pack problems:", err=True)
            for problem in exc.problems[:20]:
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(2) from None
        except OSError as exc:
            fail(f"cannot write to {out}: {exc.strerror or exc}")
    typer.echo(
        f"wrote {len(result.written)} files to {out} (content version {result.content_version})"
    )
    if result.stale:
        typer.echo(
            f"warning: {len(result.stale)} other YAML file(s) in {out} are not part of the "
            "served pack and will be read with it; remove them:",
            err=True,
        )
        for path in result.stale:
            typer.echo(f"  {path}", err=True)


# --------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Apply database migrations up to the newest (safe to run repeatedly)."""
    with _database(database_url, migrate=False) as db:
        before = db.current_revision()
        after = db.migrate()
    where = db.url.render_as_string(hide_password=True)
    if before == after:
        typer.echo(f"{where}: already at revision {after} (newest)")
    else:
        typer.echo(f"{where}: upgraded from {before or 'empty'} to revision {after}")


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
    content_app.command("export")(content_export)

"""`allguide serve`: the web app and REST API on uvicorn."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from allguide.cli.common import fail


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free port)", min=0, max=65535)
    ] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL (default: $DATABASE_URL, else sqlite:///var/allguide.db)",
        ),
    ] = None,
    content: Annotated[
        Path | None,
        typer.Option(
            "--content",
            help="Content pack imported on first start (default: $ALLGUIDE_CONTENT, else the "
            "bundled pack)",
            file_okay=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Server processes (one per CPU core serves most; each holds the content "
            "in memory). The login rate limit is split between them.",
            min=1,
            max=64,
        ),
    ] = 1,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart on code changes (development)")
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log-level", help="critical, error, warning, info or debug")
    ] = "info",
) -> None:
    """Serve the web app and REST API (API docs at /docs).

    Migrates the database, imports the content pack on first start and refuses to start
    (exit 2, listing every error) when the content check fails.
    """
    import uvicorn

    from allguide.web.app import create_app, startup_error
    from allguide.web.settings import Settings, SettingsError

    level = log_level.strip().lower()
    if level not in ("critical", "error", "warning", "info", "debug"):
        fail(f"--log-level: '{log_level}': expected critical, error, warning, info or debug")
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    overrides: dict[str, Any] = {}
    if database_url:
        overrides["database_url"] = database_url
    if content is not None:
        if not content.is_dir():
            fail(f"--content: '{content}' is not a directory; expected a content pack folder")
        overrides["content_dir"] = content
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as exc:
        fail(str(exc))

    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # ours logs the route template, never the query string
        "server_header": False,
        "log_level": level,
    }
    if reload and workers > 1:
        fail(f"--workers: {workers}: expected 1 with --reload")
    if workers > 1:
        _serve_workers(settings, workers, common)
        return
    if reload:
        _settings_to_environment(settings)
        typer.echo(f"allguide: serving on {_url(host, port)} (reloading on code changes)")
        uvicorn.run("allguide.web.app:app_from_env", factory=True, reload=True, **common)
        return

    app = create_app(settings)
    server = _announcing_server(uvicorn.Config(app, lifespan="on", **common))
    with contextlib.suppress(SystemExit):  # uvicorn exits (code 3) if the lifespan refuses
        server.run()
    error = startup_error(app)
    if error is not None:
        _report(error)
    if not server.started:
        fail("the server did not start; see the log above")


def _serve_workers(settings: Any, workers: int, common: dict[str, Any]) -> None:
    """Several worker processes on one socket. Start-up (content check, migrations, first
    import) runs once here first, so workers never race to import the content pack and
    a refusal is reported once; each worker then loads the served content itself."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from allguide.web.app import StartupError, prepare_database

    try:
        db = prepare_database(settings)
    except StartupError as exc:
        _report(exc)
    db.dispose()
    _settings_to_environment(settings)
    os.environ["ALLGUIDE_WORKERS"] = str(workers)  # each worker takes its share of limits
    config = uvicorn.Config(
        "allguide.web.app:app_from_env", factory=True, lifespan="on", workers=workers, **common
    )
    sock = config.bind_socket()  # bound here, shared by the workers; port 0 is resolved now
    host, port = sock.getsockname()[:2]
    typer.echo(
        f"allguide: serving on {_url(host, port)} with {workers} workers (API docs at /docs)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


def _settings_to_environment(settings: Any) -> None:
    """uvicorn imports the app in child processes: they read settings from the environment."""
    os.environ["DATABASE_URL"] = settings.database_url
    os.environ["ALLGUIDE_CONTENT"] = str(settings.content_dir)


def _announcing_server(config: Any) -> Any:
    """A uvicorn.Server that prints the address it really listens on (also for --port 0)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            for server in getattr(self, "servers", []):
                for sock in server.sockets:
                    host, port = sock.getsockname()[:2]
                    typer.echo(f"allguide: serving on {_url(host, port)} (API docs at /docs)")
                    return

    return Server(config)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _report(error: Exception) -> None:
    from allguide.web.app import StartupError

    if isinstance(error, StartupError):
        typer.echo(f"error: {error.message}", err=True)
        for problem in error.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2)
    fail(f"could not start: {error}")


def register(app: typer.Typer, content_app: typer.Typer) -> None:
    app.command("serve")(serve)

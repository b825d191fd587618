"""Server settings, read once from the environment (12-factor style).

Every setting has a safe default so `allguide serve` works with nothing configured: a
SQLite file under `var/`, the bundled content pack, secure cookies, rate limits on.
The few unsafe choices (plain-http cookies, CDS Hooks without JWT checks) must be
switched on explicitly and log a warning.

| variable                        | default                      |
|---------------------------------|------------------------------|
| DATABASE_URL                    | sqlite:///var/allguide.db    |
| ALLGUIDE_CONTENT                | the bundled `content/` dir   |
| ALLGUIDE_VAR_DIR                | var                          |
| ALLGUIDE_SECRET_KEY             | generated, kept in var dir   |
| ALLGUIDE_SECURE_COOKIES         | true                         |
| ALLGUIDE_SESSION_IDLE_MINUTES   | 30                           |
| ALLGUIDE_SESSION_MAX_HOURS      | 8                            |
| ALLGUIDE_RATE_LIMIT_LOGIN       | 5/minute  ("off" disables)   |
| ALLGUIDE_RATE_LIMIT_WRITE       | 60/minute ("off" disables)   |
| ALLGUIDE_PUBLIC_URL             | (unset)                      |
| ALLGUIDE_CDS_ISSUERS            | (none) JSON, see CdsSettings |
| ALLGUIDE_CDS_INSECURE_DEV       | false                        |
| ALLGUIDE_CORS_ORIGINS           | (none) for CDS Hooks clients |
| ALLGUIDE_ASK_SEMANTIC           | true                         |
| ALLGUIDE_WORKERS                | 1 (set by `serve --workers`) |
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from allguide.knowledge.pack import DEFAULT_CONTENT_DIR

log = logging.getLogger("allguide.web")

DEFAULT_DATABASE_URL = "sqlite:///var/allguide.db"
SECRET_KEY_FILE = "secret_key"
_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting from the environment is malformed; the message names the variable."""


class RateLimit(BaseModel):
    """A token bucket: `requests` allowed per `period_seconds`, refilled continuously.

    `requests == 0` means no limit.
    """

    model_config = ConfigDict(frozen=True)

    requests: int = Field(ge=0)
    period_seconds: int = Field(gt=0)

    @property
    def enabled(self) -> bool:
        return self.requests > 0

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """'5/minute', '100/second', '1000/hour', or 'off'."""
        value = text.strip().lower()
        if value in _FALSE:
            return cls(requests=0, period_seconds=1)
        match = re.fullmatch(r"(\d+)\s*/\s*(second|minute|hour)", value)
        if match is None:
            raise ValueError(f"'{text}': expected N/second, N/minute, N/hour or off")
        return cls(requests=int(match[1]), period_seconds=_PERIODS[match[2]])

    def share(self, parts: int) -> RateLimit:
        """This limit split between `parts` processes (each keeps at least one request)."""
        if not self.enabled or parts <= 1:
            return self
        return RateLimit(
            requests=max(1, self.requests // parts), period_seconds=self.period_seconds
        )

    def __str__(self) -> str:
        if not self.enabled:
            return "off"
        period = {v: k for k, v in _PERIODS.items()}.get(self.period_seconds)
        return f"{self.requests}/{period or f'{self.period_seconds}s'}"


class CdsIssuer(BaseModel):
    """One EHR allowed to call the CDS Hooks services (used by `allguide.cdshooks`)."""

    model_config = ConfigDict(frozen=True)

    iss: str
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ("ES384", "RS384")
    tenants: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # empty = every service


class CdsSettings(BaseModel):
    """CDS Hooks settings; the `cdshooks` package reads them (it owns their meaning)."""

    model_config = ConfigDict(frozen=True)

    issuers: tuple[CdsIssuer, ...] = ()
    # Development only: accept hook calls without a verified JWT (logs a warning).
    insecure_dev: bool = False


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    var_dir: Path = Path("var")
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    # False only for plain-http development: cookies then lose `Secure` and HSTS is off.
    secure_cookies: bool = True
    session_idle_minutes: int = Field(default=30, gt=0)
    session_max_hours: int = Field(default=8, gt=0)
    rate_limit_login: RateLimit = RateLimit(requests=5, period_seconds=60)
    rate_limit_write: RateLimit = RateLimit(requests=60, period_seconds=60)
    # Server processes sharing the port. The login limit is split between them (counters
    # are per process), so that spreading guesses over workers gains an attacker nothing.
    workers: int = Field(default=1, ge=1, le=64)
    # External base URL (e.g. https://allguide.example.org); used for absolute links and
    # as the audience of CDS Hooks JWTs. Never derived from the Host header.
    public_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    cds: CdsSettings = CdsSettings()
    # Largest request body accepted, in bytes (413 above it).
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    # Semantic (embedding) retrieval for questions; off = lexical only (faster start-up).
    ask_semantic: bool = True
    # How often (seconds) to look for content approved by another server process.
    content_poll_seconds: float = Field(default=5.0, gt=0)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from `env` (default: `os.environ`); `overrides` win.

        A missing secret key is generated once and kept in `<var_dir>/secret_key` (mode 0600)
        so that sessions survive restarts.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}

        def text(var: str, key: str) -> None:
            if env.get(var):
                values[key] = env[var]

        text("DATABASE_URL", "database_url")
        text("ALLGUIDE_CONTENT", "content_dir")
        text("ALLGUIDE_VAR_DIR", "var_dir")
        text("ALLGUIDE_SECRET_KEY", "secret_key")
        text("ALLGUIDE_PUBLIC_URL", "public_url")
        text("ALLGUIDE_SESSION_IDLE_MINUTES", "session_idle_minutes")
        text("ALLGUIDE_SESSION_MAX_HOURS", "session_max_hours")
        text("ALLGUIDE_WORKERS", "workers")
        for var, key in (
            ("ALLGUIDE_SECURE_COOKIES", "secure_cookies"),
            ("ALLGUIDE_ASK_SEMANTIC", "ask_semantic"),
        ):
            if env.get(var):
                values[key] = _parse_bool(var, env[var])
        for var, key in (
            ("ALLGUIDE_RATE_LIMIT_LOGIN", "rate_limit_login"),
            ("ALLGUIDE_RATE_LIMIT_WRITE", "rate_limit_write"),
        ):
            if env.get(var):
                try:
                    values[key] = RateLimit.parse(env[var])
                except ValueError as exc:
                    raise SettingsError(f"{var}: {exc}") from None
        if env.get("ALLGUIDE_CORS_ORIGINS"):
            values["cors_origins"] = tuple(
                o.strip().rstrip("/") for o in env["ALLGUIDE_CORS_ORIGINS"].split(",") if o.strip()
            )
        cds: dict[str, Any] = {}
        if env.get("ALLGUIDE_CDS_ISSUERS"):
            try:
                cds["issuers"] = json.loads(env["ALLGUIDE_CDS_ISSUERS"])
            except json.JSONDecodeError as exc:
                raise SettingsError(
                    f"ALLGUIDE_CDS_ISSUERS: not valid JSON ({exc.msg}); expected a list of "
                    '{"iss": ..., "jwks_url": ..., "algorithms": [...]} objects'
                ) from None
        insecure = env.get("ALLGUIDE_CDS_INSECURE_DEV")
        if insecure:
            cds["insecure_dev"] = _parse_bool("ALLGUIDE_CDS_INSECURE_DEV", insecure)
        if cds:
            values["cds"] = cds
        values.update(overrides)
        if "secret_key" not in values:
            values["secret_key"] = load_or_create_secret(Path(values.get("var_dir", "var")))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cache_dir(self) -> Path:
        """Derived data kept between restarts (e.g. the ask index's document vectors)."""
        return self.var_dir / "cache"

    def warnings(self) -> list[str]:
        """Unsafe choices in effect, to log at start-up."""
        out = []
        if not self.secure_cookies:
            out.append(
                "ALLGUIDE_SECURE_COOKIES=false: session cookies are sent over plain http and "
                "HSTS is off; use this only for local development"
            )
        if self.cds.insecure_dev:
            out.append(
                "ALLGUIDE_CDS_INSECURE_DEV=true: CDS Hooks calls are accepted without a "
                "verified JWT; never use this with real patient data"
            )
        return out


# Setting -> the environment variable that sets it, for error messages.
_ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "content_dir": "ALLGUIDE_CONTENT",
    "var_dir": "ALLGUIDE_VAR_DIR",
    "secret_key": "ALLGUIDE_SECRET_KEY",
    "public_url": "ALLGUIDE_PUBLIC_URL",
    "session_idle_minutes": "ALLGUIDE_SESSION_IDLE_MINUTES",
    "session_max_hours": "ALLGUIDE_SESSION_MAX_HOURS",
    "cds": "ALLGUIDE_CDS_ISSUERS",
}


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        name = _ENV_NAMES.get(loc[0], loc[0]) if loc else "settings"
        where = ".".join([name, *loc[1:]])
        parts.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def _parse_bool(var: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SettingsError(f"{var}: '{value}': expected true or false")


def load_or_create_secret(var_dir: Path) -> SecretStr:
    """The persisted session-signing key, created with mode 0600 on first use."""
    path = var_dir / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return SecretStr(key)
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two workers race, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretStr(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    log.info("generated a new session secret key in %s", path)
    return SecretStr(key)

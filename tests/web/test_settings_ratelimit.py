"""Settings from the environment, the persisted secret key, and the token bucket."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from allguide.web.ratelimit import TokenBuckets
from allguide.web.settings import RateLimit, Settings, SettingsError


def test_defaults_are_safe(tmp_path: Path) -> None:
    settings = Settings.from_env({"ALLGUIDE_VAR_DIR": str(tmp_path)})
    assert settings.database_url == "sqlite:///var/allguide.db"
    assert settings.secure_cookies is True
    assert settings.rate_limit_login.enabled and settings.rate_limit_write.enabled
    assert settings.cds.insecure_dev is False
    assert settings.warnings() == []


def test_environment_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h/db",
            "ALLGUIDE_CONTENT": str(tmp_path),
            "ALLGUIDE_VAR_DIR": str(tmp_path),
            "ALLGUIDE_SECRET_KEY": "k" * 40,
            "ALLGUIDE_SECURE_COOKIES": "false",
            "ALLGUIDE_RATE_LIMIT_LOGIN": "10/hour",
            "ALLGUIDE_RATE_LIMIT_WRITE": "off",
            "ALLGUIDE_PUBLIC_URL": "https://allguide.example.org/",
            "ALLGUIDE_CORS_ORIGINS": "https://ehr.example.org, https://b.example.org/",
            "ALLGUIDE_CDS_ISSUERS": '[{"iss": "https://ehr", "jwks_url": "https://ehr/jwks"}]',
            "ALLGUIDE_CDS_INSECURE_DEV": "yes",
        }
    )
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.content_dir == tmp_path
    assert settings.secret_key.get_secret_value() == "k" * 40
    assert settings.rate_limit_login == RateLimit(requests=10, period_seconds=3600)
    assert not settings.rate_limit_write.enabled
    assert settings.public_url == "https://allguide.example.org"
    assert settings.cors_origins == ("https://ehr.example.org", "https://b.example.org")
    assert settings.cds.issuers[0].jwks_url == "https://ehr/jwks"
    assert settings.cds.insecure_dev is True
    assert len(settings.warnings()) == 2


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ALLGUIDE_SECURE_COOKIES", "maybe"),
        ("ALLGUIDE_RATE_LIMIT_LOGIN", "5 per minute"),
        ("ALLGUIDE_CDS_ISSUERS", "{not json"),
        ("ALLGUIDE_SESSION_IDLE_MINUTES", "-1"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, var: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({var: value, "ALLGUIDE_VAR_DIR": str(tmp_path)})
    assert var in str(caught.value)


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = Settings.from_env({"ALLGUIDE_VAR_DIR": str(tmp_path / "var")})
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = Settings.from_env({"ALLGUIDE_VAR_DIR": str(tmp_path / "var")})
    assert first.secret_key.get_secret_value() == second.secret_key.get_secret_value()
    assert len(first.secret_key.get_secret_value()) >= 43  # ≥ 256 bits
    assert first.secret_key.get_secret_value() not in repr(first)


def test_rate_limit_text_round_trips() -> None:
    for text in ("5/minute", "100/second", "1000/hour", "off"):
        assert str(RateLimit.parse(text)) == text


def test_login_limit_is_split_between_workers(tmp_path: Path) -> None:
    """N workers keep N sets of counters: each gets its share, so N together allow no more
    login attempts than the setting (and every worker at least one)."""
    five = RateLimit.parse("5/minute")
    assert five.share(1) == five
    assert five.share(2) == RateLimit(requests=2, period_seconds=60)
    assert five.share(8) == RateLimit(requests=1, period_seconds=60)
    assert RateLimit.parse("off").share(4) == RateLimit.parse("off")
    settings = Settings.from_env({"ALLGUIDE_VAR_DIR": str(tmp_path), "ALLGUIDE_WORKERS": "2"})
    from allguide.web.security import RateLimiters

    limiters = RateLimiters(settings)
    assert limiters.login.limit.requests == 2
    assert limiters.write.limit == settings.rate_limit_write  # writes keep the full limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(RateLimit(requests=3, period_seconds=60), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == 20  # one token every 20 s
    assert buckets.take("b") == 0  # keys are independent
    clock.now += 19.9
    assert buckets.take("a") == 1
    clock.now += 0.2
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_disabled_bucket_never_limits() -> None:
    buckets = TokenBuckets(RateLimit.parse("off"))
    assert all(buckets.take("x") == 0 for _ in range(1000))


def test_bucket_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import allguide.web.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "MAX_KEYS", 100)
    clock = FakeClock()
    buckets = TokenBuckets(RateLimit(requests=1, period_seconds=60), clock=clock)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")
        clock.now += 0.001
    assert len(buckets._buckets) <= 100

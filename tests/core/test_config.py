import stat
from pathlib import Path

import pytest

from app.core.config import MIN_SECRET_BYTES, ConfigError, Settings, get_settings

STRONG_KEY = "k" * MIN_SECRET_BYTES


def make_settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# Secret key


def test_configured_key_is_used_as_is(tmp_path: Path) -> None:
    settings = make_settings(secret_key=STRONG_KEY, secret_key_file=tmp_path / "key")
    assert settings.resolve_secret_key() == STRONG_KEY
    assert not (tmp_path / "key").exists()


def test_production_without_a_key_stops_the_start(tmp_path: Path) -> None:
    settings = make_settings(environment="production", secret_key_file=tmp_path / "key")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set when ENVIRONMENT=production"):
        settings.resolve_secret_key()
    assert not (tmp_path / "key").exists()  # no silent fallback to a generated key


def test_production_with_an_empty_key_stops_the_start(tmp_path: Path) -> None:
    settings = make_settings(
        environment="production", secret_key="", secret_key_file=tmp_path / "k"
    )
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        settings.resolve_secret_key()


def test_production_with_a_short_key_stops_the_start() -> None:
    settings = make_settings(environment="production", secret_key="k" * (MIN_SECRET_BYTES - 1))
    with pytest.raises(ConfigError, match="too short for production"):
        settings.resolve_secret_key()


def test_production_key_length_counts_bytes() -> None:
    # 16 characters of two bytes each: 32 bytes, long enough.
    settings = make_settings(environment="production", secret_key="é" * 16)
    assert settings.resolve_secret_key() == "é" * 16


def test_production_with_a_strong_key_starts() -> None:
    settings = make_settings(environment="production", secret_key=STRONG_KEY)
    assert settings.resolve_secret_key() == STRONG_KEY


def test_development_short_key_is_accepted() -> None:
    assert (
        make_settings(environment="development", secret_key="short").resolve_secret_key() == "short"
    )


def test_development_generates_a_private_key_file_once(tmp_path: Path) -> None:
    key_file = tmp_path / "secret"
    settings = make_settings(environment="development", secret_key_file=key_file)
    first = settings.resolve_secret_key()
    assert len(first.encode()) >= MIN_SECRET_BYTES
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text(encoding="utf-8") == first
    # The next start (or another worker) reads the same key back.
    assert settings.resolve_secret_key() == first
    assert make_settings(environment="test", secret_key_file=key_file).resolve_secret_key() == first


def test_key_file_contents_are_stripped(tmp_path: Path) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(STRONG_KEY + "\n", encoding="utf-8")
    assert make_settings(secret_key_file=key_file).resolve_secret_key() == STRONG_KEY


@pytest.mark.parametrize("contents", ["", "too-short", "  \n"])
def test_short_key_file_raises(tmp_path: Path, contents: str) -> None:
    key_file = tmp_path / "secret"
    key_file.write_text(contents, encoding="utf-8")
    with pytest.raises(ConfigError, match="empty or too short"):
        make_settings(secret_key_file=key_file).resolve_secret_key()
    assert key_file.read_text(encoding="utf-8") == contents  # never overwritten


# Bootstrap admin password


@pytest.mark.parametrize("environment", ["development", "test", "production"])
@pytest.mark.parametrize(
    "password",
    ["Qz", "eleven-Char", "é" * 37],  # 2 and 11 characters; 74 bytes
)
def test_weak_admin_password_stops_the_start(environment: str, password: str) -> None:
    settings = make_settings(
        environment=environment, admin_username="boss", admin_password=password
    )
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD does not follow the password rule") as e:
        settings.check_admin_password()
    assert password not in str(e.value)


@pytest.mark.parametrize("password", [None, "", "x" * 12, "é" * 36])  # 36 x 2 bytes = 72
def test_admin_password_that_follows_the_rule_or_is_unset_starts(password: str | None) -> None:
    make_settings(
        environment="production", admin_username="boss", admin_password=password
    ).check_admin_password()


# Database URL


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/bank", "postgresql+psycopg://u:p@db:5432/bank"),
        ("postgresql://u:p@db/bank", "postgresql+psycopg://u:p@db/bank"),
        ("postgresql+psycopg://u:p@db/bank", "postgresql+psycopg://u:p@db/bank"),
        ("sqlite:///./openbank.db", "sqlite:///./openbank.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url_scheme_is_normalised(given: str, expected: str) -> None:
    settings = make_settings(database_url=given)
    assert settings.database_url == expected
    assert settings.is_sqlite == expected.startswith("sqlite")


# Sources and validation


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "DATABASE_URL", "SECRET_KEY", "BCRYPT_ROUNDS", "MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    settings = make_settings()
    assert settings.environment == "development"
    assert settings.database_url == "sqlite:///./openbank.db"
    assert settings.secret_key is None
    assert settings.bcrypt_rounds == 12
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.default_countries == ["NL", "BE", "DE"]
    assert settings.default_currencies == ["EUR", "USD", "GBP"]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/db")
    monkeypatch.setenv("BCRYPT_ROUNDS", "5")
    monkeypatch.setenv("DEFAULT_CURRENCIES", '["EUR","CHF"]')
    settings = make_settings()
    assert settings.database_url == "postgresql+psycopg://u:p@h/db"
    assert settings.bcrypt_rounds == 5
    assert settings.default_currencies == ["EUR", "CHF"]


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROJECT_NAME", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text('PROJECT_NAME="Test Bank"\nUNKNOWN_SETTING=ignored\n', encoding="utf-8")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.project_name == "Test Bank"


@pytest.mark.parametrize(
    "values",
    [
        {"bcrypt_rounds": 3},
        {"bcrypt_rounds": 32},
        {"max_body_bytes": 1023},
        {"environment": "staging"},
        {"jwt_algorithm": "none"},
        {"jwt_algorithm": "RS256"},
        {"access_token_expire_minutes": 0},
    ],
)
def test_invalid_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        make_settings(**values)


# Docs


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [
        ("development", None, True),
        ("test", None, True),
        ("production", None, False),
        ("production", True, True),
        ("development", False, False),
    ],
)
def test_docs_are_on_outside_production_unless_set(
    environment: str, docs_enabled: bool | None, served: bool
) -> None:
    settings = make_settings(environment=environment, docs_enabled=docs_enabled)
    assert settings.serves_docs is served


@pytest.mark.parametrize(
    ("raw", "served"), [("true", True), ("false", False), ("1", True), ("", False), (" ", False)]
)
def test_docs_enabled_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, served: bool
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DOCS_ENABLED", raw)
    assert make_settings().serves_docs is served  # empty: the default, off in production


def test_docs_enabled_must_be_a_boolean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_ENABLED", "sometimes")
    with pytest.raises(ValueError, match="docs_enabled"):
        make_settings()


def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


# Throttling and password hashing


def test_registrations_per_address_is_stricter_in_production() -> None:
    assert make_settings().registration_limit == 100
    assert make_settings(environment="production").registration_limit == 20
    assert (
        make_settings(environment="production", registrations_per_address=7).registration_limit == 7
    )


def test_empty_values_in_the_environment_mean_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PASSWORD_HASH_CONCURRENCY", "REGISTRATIONS_PER_ADDRESS", "THROTTLE_ENABLED"):
        monkeypatch.setenv(name, "")
    settings = make_settings()
    assert settings.password_hash_concurrency >= 1
    assert settings.registrations_per_address is None
    assert settings.throttle_enabled is True


# Worker threads


def test_worker_threads_default_by_database_and_configured() -> None:
    assert make_settings(database_url="sqlite:///x.db").thread_count == 2
    assert make_settings(database_url="postgresql+psycopg://u@h/db").thread_count == 40
    assert make_settings(database_url="sqlite:///x.db", worker_threads=12).thread_count == 12
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        make_settings(worker_threads=0)

"""Application settings from the environment and an optional `.env`, validated at start."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    project_name: str = "OpenBank API"
    service_name: str = "openbank-api"
    version: str = "0.1.0"
    log_level: str = "INFO"

    database_url: str = "sqlite:///./openbank.db"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # Retries of a unit of work that PostgreSQL aborted (serialization failure, deadlock).
    db_write_retries: int = Field(default=3, ge=0, le=10)

    secret_key: str | None = None
    secret_key_file: Path = Path(".openbank_secret")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "openbank-api"
    jwt_audience: str = "openbank-api"
    access_token_expire_minutes: int = Field(default=15, ge=1)
    refresh_token_expire_days: int = Field(default=7, ge=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)

    admin_username: str | None = None
    admin_password: str | None = None

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Idempotency-Key responses are replayed for at least this long (the API promises 24 hours).
    idempotency_ttl_hours: int = Field(default=24, ge=24)

    default_countries: list[str] = ["NL", "BE", "DE"]
    default_currencies: list[str] = ["EUR", "USD", "GBP"]

    bank_name: str = "OpenBank"
    bank_country: str = "NL"
    bank_code: str = "OPNB"
    bank_bic: str = "OPNBNL2A"

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        # "postgresql://" alone would select psycopg2; this project ships psycopg 3.
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolve_secret_key(self) -> str:
        """The JWT signing key: the configured one, or (outside production) one kept in a file.

        The file is created once with mode 0600, atomically, so several workers that start at the
        same time agree on one key and tokens survive restarts.
        """
        if self.secret_key:
            if (
                self.environment == "production"
                and len(self.secret_key.encode()) < MIN_SECRET_BYTES
            ):
                raise ConfigError(
                    f"SECRET_KEY is too short for production: use at least {MIN_SECRET_BYTES} "
                    'bytes, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
                )
            return self.secret_key
        if self.environment == "production":
            raise ConfigError(
                "SECRET_KEY must be set when ENVIRONMENT=production "
                f"(at least {MIN_SECRET_BYTES} bytes)."
            )
        return _read_or_create_secret_file(self.secret_key_file)


def _read_or_create_secret_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
        if len(key.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"The secret key file {path} is empty or too short; delete it to have a new key "
                "generated."
            ) from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()

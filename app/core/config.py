"""Application settings from the environment and an optional `.env`, validated at start."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.passwords import PASSWORD_RULE, password_problem

MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    # An empty value (`PASSWORD_HASH_CONCURRENCY=` in a copied .env) means "the default".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    environment: Literal["development", "test", "production"] = "development"
    project_name: str = "OpenBank API"
    service_name: str = "openbank-api"
    version: str = "0.1.0"
    log_level: str = "INFO"

    database_url: str = "sqlite:///./openbank.db"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=30, gt=0)
    # Threads for the blocking steps of requests, per process (None: 2 on SQLite, 40 otherwise).
    worker_threads: int | None = Field(default=None, ge=1, le=1000)
    # Upgrade the database to the newest migration at start (under a lock, so workers that start
    # together migrate once). Off: the start refuses a database that is not at the newest one.
    auto_migrate: bool = True
    # Retries of a unit of work that PostgreSQL aborted (serialization failure, deadlock).
    db_write_retries: int = Field(default=3, ge=0, le=10)

    secret_key: str | None = None
    secret_key_file: Path = Path(".openbank_secret")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "openbank-api"
    jwt_audience: str = "openbank-api"
    access_token_expire_minutes: int = Field(default=15, ge=1)
    refresh_token_expire_days: int = Field(default=7, ge=1)
    # API keys (POST /auth/api-keys) may ask for at most this many days of life (or none).
    api_key_max_days: int = Field(default=365, ge=1, le=36500)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    # At most this many passwords are hashed or checked at once per process (about one per
    # core); a logon that finds no free slot within PASSWORD_HASH_QUEUE_SECONDS gets 503.
    password_hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    password_hash_queue_seconds: float = Field(default=5, gt=0, le=60)

    # Brute-force protection, with its state in the database (every worker and host sees it).
    # False turns every limit below off (for load tests).
    throttle_enabled: bool = True
    # Consecutive failed logons of one account before it is held back (growing delay, 429).
    logon_failures_per_account: int = Field(default=5, ge=1, le=100)
    # Failed logons from one client address per hour.
    logon_failures_per_address: int = Field(default=100, ge=1)
    # Registrations from one client address per hour; default 100, 20 in production.
    registrations_per_address: int | None = Field(default=None, ge=1)

    admin_username: str | None = None
    # The bootstrap admin's password follows the customers' password rule (checked at start).
    admin_password: str | None = None

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Swagger UI at /docs, ReDoc at /redoc and the schema at /openapi.json. Unset (or empty):
    # on, except with ENVIRONMENT=production, where they are off unless DOCS_ENABLED=true.
    docs_enabled: bool | None = None

    # Idempotency-Key responses are replayed for at least this long (the API promises 24 hours).
    idempotency_ttl_hours: int = Field(default=24, ge=24)

    default_countries: list[str] = ["NL", "BE", "DE"]
    default_currencies: list[str] = ["EUR", "USD", "GBP"]
    # Reference FX rates inserted on first start: "BASE/QUOTE" -> units of QUOTE per BASE.
    # Pairs whose currencies are not supported are left out.
    default_fx_rates: dict[str, Decimal] = {
        "EUR/USD": Decimal("1.0850"),
        "EUR/GBP": Decimal("0.8550"),
        "EUR/CHF": Decimal("0.9400"),
        "EUR/JPY": Decimal("162.00"),
    }
    # Saving accounts earn this much a year (percent), per currency, until an admin changes it.
    default_interest_rates: dict[str, Decimal] = {
        "EUR": Decimal("1.50"),
        "USD": Decimal("2.00"),
        "GBP": Decimal("1.75"),
    }
    # The bank's base currency: values cash to find a customer's reporting currency (the
    # portfolio summary's currency unless a request names another) and wins its ties.
    base_currency: str = Field(default="EUR", min_length=3, max_length=3)

    # The MCP server for AI agents at /mcp (streamable HTTP; analyst and admin tokens only).
    mcp_enabled: bool = True
    # Empty: any Host header (every request carries a Bearer token, which a browser does not send
    # by itself, so DNS rebinding gains nothing). Set to turn on the SDK's Host/Origin checks:
    # "bank.example.com", "127.0.0.1:*" (any port).
    mcp_allowed_hosts: list[str] = []

    # Sandboxes: isolated banks, each a database of its own (see the README's "Sandboxes").
    # SQLite: their files' folder (default: `sandboxes/` beside the database file).
    sandbox_dir: Path | None = None
    # Who may create one: anyone (None: true outside production), else the default's admins.
    sandbox_self_service: bool | None = None
    sandbox_max_live: int = Field(default=1000, ge=1)
    sandbox_max_customers: int = Field(default=1000, ge=0)
    sandbox_default_ttl_hours: int = Field(default=24, ge=1)
    sandbox_max_ttl_hours: int = Field(default=720, ge=1)
    # Engines kept open (least recently used closed first), and each one's pool.
    sandbox_engine_cache: int = Field(default=64, ge=1)
    sandbox_db_pool_size: int = Field(default=5, ge=1)
    # A process re-reads a sandbox's registry row at most this often (another worker may have
    # deleted it), and removes expired sandboxes this often.
    sandbox_revalidate_seconds: float = Field(default=5, ge=0)
    sandbox_sweep_seconds: float = Field(default=60, gt=0)
    # In real mode a sandbox's time flows: what falls due (scheduled transfers, standing
    # orders, interest) runs this often.
    clock_tick_seconds: float = Field(default=30, gt=0)
    # A card payment's hold posts to the ledger this many sandbox days after it was placed.
    card_settlement_days: int = Field(default=2, ge=0, le=30)

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

    @field_validator("docs_enabled", "sandbox_self_service", "sandbox_dir", mode="before")
    @classmethod
    def _empty_means_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("default_fx_rates")
    @classmethod
    def _check_fx_pairs(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        checked: dict[str, Decimal] = {}
        for pair, rate in value.items():
            base, sep, quote = pair.upper().partition("/")
            if sep != "/" or len(base) != 3 or len(quote) != 3 or base == quote:
                raise ValueError(f"FX pair {pair!r} must look like 'EUR/USD'")
            if rate <= 0:
                raise ValueError(f"FX rate for {pair} must be positive")
            checked[f"{base}/{quote}"] = rate
        return checked

    @field_validator("base_currency")
    @classmethod
    def _upper_currency(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _pool_fits_the_start(self) -> Settings:
        # The start holds one connection (the migration lock) while it writes the first-start
        # data through another.
        if self.db_pool_size + self.db_max_overflow < 2:
            raise ValueError("DB_POOL_SIZE + DB_MAX_OVERFLOW must be at least 2")
        return self

    @property
    def registration_limit(self) -> int:
        if self.registrations_per_address is not None:
            return self.registrations_per_address
        return 20 if self.environment == "production" else 100

    @property
    def serves_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served."""
        if self.docs_enabled is None:
            return self.environment != "production"
        return self.docs_enabled

    @property
    def sandboxes_self_service(self) -> bool:
        if self.sandbox_self_service is None:
            return self.environment != "production"
        return self.sandbox_self_service

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def thread_count(self) -> int:
        """`WORKER_THREADS`, or the default for the database. SQLite's driver lets go of the
        interpreter lock for every row it steps through: with many threads reading at once,
        handing the lock around costs more than the reads (a portfolio took three times the CPU
        with 40 threads than with 2). Two keep one thread working while the other waits for a
        write lock that another process holds. PostgreSQL's waits are on the network, where
        more threads overlap them."""
        if self.worker_threads is not None:
            return self.worker_threads
        return 2 if self.is_sqlite else 40

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

    def check_admin_password(self) -> None:
        """Refuse a bootstrap admin password weaker than a customer's, in every environment.

        Checked at start, before anything is created, whether or not the admin exists already.
        The message never shows the password.
        """
        if not self.admin_password:
            return
        problem = password_problem(self.admin_password)
        if problem is not None:
            raise ConfigError(
                f"ADMIN_PASSWORD does not follow the password rule ({PASSWORD_RULE}): {problem}. "
                "Choose another one, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(24))"'
            )


def _read_or_create_secret_file(path: Path) -> str:
    """The key in `path`, or a new one written there if there is no file yet.

    The key is written to a private temporary file first and then linked into place, which
    fails if the file exists: a process never sees a half-written key, and when several start at
    once one of them wins and the others read its key.
    """
    if not path.exists():
        key = secrets.token_urlsafe(48)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use its key
        else:
            return key
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_text(encoding="utf-8").strip()
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"The secret key file {path} is empty or too short; delete it to have a new key "
            "generated."
        )
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()

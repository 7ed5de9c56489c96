"""Migrations: they build what the models describe, keep data on upgrade, and the app's start
upgrades, refuses a newer database and adopts one made before migrations existed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

import app.models  # noqa: F401  (every table on SQLModel.metadata)
import seed
from app.core.db import create_db_engine, new_session
from app.core.migrations import (
    COMPARE_OPTIONS,
    FOUNDATION_REVISION,
    VERSION_TABLE,
    SchemaVersionError,
    alembic_config,
    current_revisions,
    drop_everything,
    head_revisions,
    migration_lock,
    migration_transaction,
    script_directory,
    upgrade_to_head,
)
from app.core.security import hash_password
from app.main import create_app
from app.models.account import Account
from app.models.customer import Customer
from app.models.transfer import Transfer, TransferStatus
from app.models.user import User
from tests.utils.auth import logon
from tests.utils.databases import empty_database, make_settings, on_postgres

PASSWORD = "survivor-password-1"


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    with empty_database(tmp_path) as url:
        yield url


@pytest.fixture
def db_engine(empty_url: str) -> Iterator[Engine]:
    engine = create_db_engine(make_settings(empty_url))
    yield engine
    engine.dispose()


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """`alembic upgrade/downgrade <revision>` the way the app runs it: locked, one transaction."""
    config = alembic_config()
    with migration_lock(engine) as connection, migration_transaction(connection):
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return current_revisions(connection)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def start_revisions() -> list[str]:
    """Where an upgrade can start from: the foundation, and the revision before the newest."""
    script = script_directory()
    previous = script.get_revision(script.get_current_head()).down_revision
    starts = {FOUNDATION_REVISION}
    if isinstance(previous, str):
        starts.add(previous)
    return sorted(starts)


# The foundation's tables as revision 0001 made them (not the models: those move on).
CUSTOMER = sa.table(
    "customer",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("date_of_birth", sa.Date()),
    sa.column("address", sa.String()),
    sa.column("country", sa.String()),
    sa.column("id_document", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
USER = sa.table(
    "user",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("role", sa.String()),
    sa.column("customer_id", sa.Uuid()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
ACCOUNT = sa.table(
    "account",
    sa.column("id", sa.Integer()),
    sa.column("account_type", sa.String()),
    sa.column("customer_id", sa.Uuid()),
    sa.column("institution_id", sa.Integer()),
    sa.column("iban", sa.String()),
    sa.column("currency", sa.String()),
    sa.column("balance", sa.BigInteger()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
INSTITUTION = sa.table(
    "institution",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("institution_type", sa.String()),
    sa.column("bic", sa.String()),
    sa.column("country", sa.String()),
    sa.column("is_own_bank", sa.Boolean()),
)
CURRENCY = sa.table("currency", sa.column("code", sa.String()), sa.column("name", sa.String()))
COUNTRY = sa.table(
    "allowed_country", sa.column("iso_code", sa.String()), sa.column("name", sa.String())
)

CUSTOMER_IDS = [uuid.UUID(int=n, version=4) for n in (1, 2)]
IBANS = ["NL91OPNB0417164300", "NL20OPNB0001234567"]
CREATED = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def insert_foundation_data(engine: Engine) -> None:
    """Two customers with logins and accounts, by plain SQL against revision 0001's tables."""
    # SQLite keeps no time zone: store UTC wall time, as the app does.
    created = CREATED if on_postgres() else CREATED.replace(tzinfo=None)
    password_hash = hash_password(PASSWORD, 4)
    with engine.begin() as connection:
        connection.execute(sa.insert(CURRENCY), [{"code": "EUR", "name": "Euro"}])
        connection.execute(sa.insert(COUNTRY), [{"iso_code": "NL", "name": "Netherlands"}])
        connection.execute(
            sa.insert(INSTITUTION),
            [
                {
                    "id": 1,
                    "name": "OpenBank",
                    "institution_type": "bank",
                    "bic": "OPNBNL2A",
                    "country": "NL",
                    "is_own_bank": True,
                }
            ],
        )
        for index, customer_id in enumerate(CUSTOMER_IDS, start=1):
            connection.execute(
                sa.insert(CUSTOMER),
                [
                    {
                        "id": customer_id,
                        "name": f"Survivor {index}",
                        "date_of_birth": date(1980 + index, index, 10 + index),
                        "address": f"Damrak {index}, Amsterdam",
                        "country": "NL",
                        "id_document": f"NL000000{index}",
                        "created_at": created,
                    }
                ],
            )
            connection.execute(
                sa.insert(USER),
                [
                    {
                        "id": index,
                        "username": f"survivor{index}",
                        "password_hash": password_hash,
                        "role": "customer",
                        "customer_id": customer_id,
                        "created_at": created,
                    }
                ],
            )
            connection.execute(
                sa.insert(ACCOUNT),
                [
                    {
                        "id": index,
                        "account_type": "checking",
                        "customer_id": customer_id,
                        "institution_id": 1,
                        "iban": IBANS[index - 1],
                        "currency": "EUR",
                        "balance": 123456 * index,  # cents
                        "created_at": created,
                    }
                ],
            )
        # Identities were given explicitly: move PostgreSQL's sequences past them.
        if engine.dialect.name == "postgresql":
            for table in ("user", "account", "institution"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), 10)")
                )


def assert_foundation_data_intact(engine: Engine) -> None:
    with new_session(engine) as session:
        for index, customer_id in enumerate(CUSTOMER_IDS, start=1):
            customer = session.get(Customer, customer_id)
            assert customer is not None
            assert (customer.name, customer.date_of_birth, customer.id_document) == (
                f"Survivor {index}",
                date(1980 + index, index, 10 + index),
                f"NL000000{index}",
            )
            assert customer.created_at == CREATED
            user = session.get(User, index)
            assert user is not None
            assert (user.username, user.role, user.customer_id) == (
                f"survivor{index}",
                "customer",
                customer_id,
            )
            account = session.get(Account, index)
            assert account is not None
            assert (account.iban, account.balance, account.customer_id) == (
                IBANS[index - 1],
                Decimal(123456 * index).scaleb(-2),
                customer_id,
            )


def test_migrations_build_what_the_models_describe(db_engine: Engine) -> None:
    upgrade_to_head(db_engine)

    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=dict(COMPARE_OPTIONS))
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []
    assert revisions(db_engine) == head_revisions()


def test_no_column_is_a_native_enum_type() -> None:
    """Enumerations are VARCHAR + CHECK (app.core.enums.enum_column) on both databases; a bare
    StrEnum field would become a PostgreSQL ENUM type that SQLite does not have."""
    native = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.Enum) and column.type.native_enum
    ]
    assert native == [], "use sa_type=enum_column(...) for " + ", ".join(native)


def test_migrations_form_one_line() -> None:
    script = script_directory()
    assert len(script.get_heads()) == 1, "two migrations branch off one revision: merge them"
    assert script.get_base() == FOUNDATION_REVISION


@pytest.mark.parametrize("start", start_revisions())
def test_data_survives_the_upgrade_to_head(empty_url: str, db_engine: Engine, start: str) -> None:
    migrate(db_engine, FOUNDATION_REVISION)
    insert_foundation_data(db_engine)
    migrate(db_engine, start)
    assert revisions(db_engine) == {start}

    with TestClient(create_app(make_settings(empty_url))) as client:  # the start upgrades
        tokens = logon(client, "survivor2", PASSWORD)
        overview = client.get(
            "/accounts/overview", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )

    assert revisions(db_engine) == head_revisions()
    assert overview.status_code == 200
    assert [(a["iban"], a["balance"]) for a in overview.json()["accounts"]] == [
        (IBANS[1], "2469.12")
    ]
    assert_foundation_data_intact(db_engine)


REFRESH_TOKEN_0004 = sa.table(
    "refresh_token",
    sa.column("jti", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("family", sa.String()),
    sa.column("expires_at", sa.DateTime(timezone=True)),
    sa.column("used_at", sa.DateTime(timezone=True)),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def test_users_get_uids_and_refresh_families_become_sessions(db_engine: Engine) -> None:
    migrate(db_engine, FOUNDATION_REVISION)
    insert_foundation_data(db_engine)
    migrate(db_engine, "0004")
    stamp = CREATED if on_postgres() else CREATED.replace(tzinfo=None)
    later = datetime(2025, 3, 5, tzinfo=UTC) if on_postgres() else datetime(2025, 3, 5)
    tokens = [
        # user 1: a live family of two (one rotated), user 2: a revoked family
        ("a" * 32, 1, "a" * 32, stamp, None),
        ("b" * 32, 1, "a" * 32, None, None),
        ("c" * 32, 2, "c" * 32, None, later),
    ]
    with db_engine.begin() as connection:
        connection.execute(
            sa.insert(REFRESH_TOKEN_0004),
            [
                {
                    "jti": jti,
                    "user_id": user_id,
                    "family": family,
                    "expires_at": stamp,
                    "used_at": used,
                    "revoked_at": revoked,
                    "created_at": stamp,
                }
                for jti, user_id, family, used, revoked in tokens
            ],
        )

    upgrade_to_head(db_engine)

    with db_engine.connect() as connection:
        sessions = connection.execute(
            text("SELECT id, user_id, revoked_at IS NOT NULL FROM auth_session ORDER BY id")
        ).all()
        refresh = connection.execute(
            text("SELECT jti, session_id FROM refresh_token ORDER BY jti")
        ).all()
        uids = connection.execute(text('SELECT uid FROM "user"')).scalars().all()
    assert [tuple(row) for row in sessions] == [("a" * 32, 1, False), ("c" * 32, 2, True)]
    assert [tuple(row) for row in refresh] == [
        ("a" * 32, "a" * 32),
        ("b" * 32, "a" * 32),
        ("c" * 32, "c" * 32),
    ]
    assert len(uids) == len(set(uids)) == 2
    assert all(uid is not None for uid in uids)


def test_transfers_keep_their_ids_and_entries_and_new_ones_number_on(db_engine: Engine) -> None:
    """Before scheduled transfers, a transfer's id was its journal entry's: it keeps both, is
    completed, and a new transfer (which may have no entry) takes the next id."""
    migrate(db_engine, FOUNDATION_REVISION)
    insert_foundation_data(db_engine)
    migrate(db_engine, "0008")
    stamp = CREATED if on_postgres() else CREATED.replace(tzinfo=None)
    with db_engine.begin() as connection:
        entry_id = connection.execute(
            text(
                "INSERT INTO journal_entry (kind, description, created_at) "
                "VALUES ('transfer', 'rent', :at) RETURNING id"
            ),
            {"at": stamp},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO transfer (id, from_account_id, to_account_id, from_iban, to_iban, "
                "amount, currency, description, created_at) "
                "VALUES (:id, 1, 2, :src, :dst, 2500, 'EUR', 'rent', :at)"
            ),
            {"id": entry_id, "src": IBANS[0], "dst": IBANS[1], "at": stamp},
        )

    upgrade_to_head(db_engine)

    with new_session(db_engine) as session:
        [old] = session.exec(select(Transfer)).all()
        assert (old.id, old.entry_id, old.status, old.execute_on, old.failure_reason) == (
            entry_id,
            entry_id,
            TransferStatus.completed,
            None,
            None,
        )
        scheduled = Transfer(
            from_account_id=1,
            to_account_id=2,
            from_iban=IBANS[0],
            to_iban=IBANS[1],
            amount=Decimal("1.00"),
            currency="EUR",
            status=TransferStatus.scheduled,
            execute_on=date(2030, 1, 1),
            created_at=CREATED,
        )
        session.add(scheduled)
        session.commit()
        assert scheduled.id == entry_id + 1
        # A completed transfer has its entry; one without money moved has none.
        entryless = scheduled.model_dump(exclude={"id", "status", "execute_on"})
        session.add(Transfer.model_validate({**entryless, "status": TransferStatus.completed}))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()


def test_downgrade_to_nothing_and_upgrade_again(db_engine: Engine) -> None:
    upgrade_to_head(db_engine)
    migrate(db_engine, "base", down=True)
    assert table_names(db_engine) == {VERSION_TABLE}
    assert revisions(db_engine) == set()

    upgrade_to_head(db_engine)
    assert revisions(db_engine) == head_revisions()
    assert {"customer", "user", "account", "refresh_token"} <= table_names(db_engine)


def test_start_refuses_a_database_from_a_newer_version(db_engine: Engine, empty_url: str) -> None:
    upgrade_to_head(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999_future'"))

    with (
        pytest.raises(SchemaVersionError, match="'9999_future', which this version of the code"),
        TestClient(create_app(make_settings(empty_url))),
    ):
        pass  # pragma: no cover - the start fails

    assert revisions(db_engine) == {"9999_future"}  # and nothing was changed


def test_without_auto_migrate_an_old_database_is_refused(db_engine: Engine, empty_url: str) -> None:
    migrate(db_engine, FOUNDATION_REVISION)
    settings = make_settings(empty_url, auto_migrate=False)

    with (
        pytest.raises(SchemaVersionError, match="uv run alembic upgrade head"),
        TestClient(create_app(settings)),
    ):
        pass  # pragma: no cover - the start fails
    assert revisions(db_engine) == {FOUNDATION_REVISION}

    upgrade_to_head(db_engine)  # what the message says to do
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["database"] == "connected"


def test_a_database_made_before_migrations_is_adopted(db_engine: Engine, empty_url: str) -> None:
    # Version 0.1.0 made the foundation tables with create_all and no revision table.
    migrate(db_engine, FOUNDATION_REVISION)
    with db_engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    insert_foundation_data(db_engine)

    with TestClient(create_app(make_settings(empty_url))) as client:
        assert logon(client, "survivor1", PASSWORD)["token_type"] == "bearer"

    assert revisions(db_engine) == head_revisions()
    assert_foundation_data_intact(db_engine)


def test_workers_starting_together_migrate_once(empty_url: str) -> None:
    engines = [create_db_engine(make_settings(empty_url)) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        try:
            barrier.wait(timeout=10)
            upgrade_to_head(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        assert revisions(engines[0]) == head_revisions()
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.sqlite_only
def test_sqlite_table_rebuild_keeps_child_rows(db_engine: Engine) -> None:
    """Alembic rebuilds a SQLite table to alter it (copy, drop, rename). With foreign keys on,
    dropping `customer` would delete every account and login through ON DELETE CASCADE."""
    migrate(db_engine, FOUNDATION_REVISION)
    insert_foundation_data(db_engine)
    upgrade_to_head(db_engine)

    with migration_lock(db_engine) as connection, migration_transaction(connection):
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("customer", recreate="always") as batch:
            batch.add_column(sa.Column("nickname", sa.String(20), nullable=True))

    with db_engine.connect() as connection:
        counts = [
            connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
            for table in ("customer", "user", "account")
        ]
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
    assert counts == [2, 2, 2]
    assert foreign_keys == 1  # back on for the app's connections


@pytest.mark.sqlite_only
def test_sqlite_migration_breaking_a_foreign_key_is_rolled_back(db_engine: Engine) -> None:
    migrate(db_engine, FOUNDATION_REVISION)
    insert_foundation_data(db_engine)
    upgrade_to_head(db_engine)

    with (
        pytest.raises(RuntimeError, match="break foreign keys"),
        migration_lock(db_engine) as connection,
        migration_transaction(connection),
    ):
        connection.execute(text("DELETE FROM customer"))  # foreign keys are off in a migration

    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM account")).scalar_one() == 2


def test_seed_reset_drops_everything_and_migrates_again(empty_url: str, db_engine: Engine) -> None:
    upgrade_to_head(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text(f"UPDATE {VERSION_TABLE} SET version_num = '{FOUNDATION_REVISION}'")
        )
    settings = make_settings(empty_url)

    report = seed.main(["--reset", "--customers", "2", "--bcrypt-rounds", "4"], settings)

    assert report.customers_created == 2
    assert "leftover" not in table_names(db_engine)
    assert revisions(db_engine) == head_revisions()
    with db_engine.connect() as connection:
        customers = connection.execute(text("SELECT COUNT(*) FROM customer")).scalar_one()
    # Two Faker customers plus document 002's five sample customers.
    assert customers == 2 + len(seed.DOCUMENT_CUSTOMERS)


def test_drop_everything_leaves_no_table(db_engine: Engine) -> None:
    upgrade_to_head(db_engine)
    drop_everything(db_engine)
    assert table_names(db_engine) == set()

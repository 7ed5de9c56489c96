"""Sandboxes: isolated banks in one server, each a database of its own, created from cached
templates, snapshotted, restored, reset and forked by copying whole databases.

The registry (`sandbox`, `sandbox_snapshot`) lives in the default sandbox's database. Storage
(files or databases, and how they are copied) is `app.core.sandbox_storage`; this module holds
the rules: who may do what, the limits, and each operation as one unit of work.

Per process, a `SandboxHub` keeps what the hot path needs in memory: for every sandbox it has
seen, its expiry and its gate (`app.core.sandbox_gate`), and an engine per open sandbox. Resolving
a request's sandbox is a dictionary look-up; the registry is read again for a sandbox at most
every `SANDBOX_REVALIDATE_SECONDS` (another worker may have deleted it).

Storage names: `sbx_...` is a live sandbox, `sbx_..._0` the copy that `reset` goes back to (taken
when the sandbox was made), `sbx_..._<key>` its snapshots, `t_<key>` a template.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.db import create_db_engine, new_session, write_transaction
from app.core.migrations import head_revisions, upgrade_if_behind, upgrade_to_head
from app.core.sandbox_context import DEFAULT_SANDBOX, SandboxContext, is_sandbox_id
from app.core.sandbox_gate import GateTimeout, SandboxGate
from app.core.sandbox_storage import SandboxEngines, SandboxStorage, open_storage
from app.core.security import generate_secret, hash_generated_secret
from app.errors import (
    SandboxBusy,
    SandboxForbidden,
    SandboxNotFound,
    SnapshotExists,
    SnapshotNotFound,
    TooManySandboxes,
    ValidationFailed,
)
from app.models.api_key import ApiKey
from app.models.auth_session import AuthSession
from app.models.refresh_token import RefreshToken
from app.models.sandbox import (
    Login,
    Sandbox,
    SandboxCreate,
    SandboxCreated,
    SandboxPublic,
    SandboxSnapshot,
    SandboxTemplate,
    SnapshotCreate,
    SnapshotPublic,
    StaffCredentials,
)
from app.models.throttle import Throttle
from app.models.user import Role, User
from app.seeding import sample_data
from app.seeding.reference import ensure_reference_data, ensure_staff
from app.services import clock, startup

logger = logging.getLogger(__name__)

RESET_KEY = "0"  # the storage suffix of the state `reset` returns to
# How long a restore waits for the sandbox's requests in flight, and a request for a restore.
GATE_TIMEOUT_SECONDS = 10.0
# Seeded hashes of a template are replaced when a sandbox is made from it: the cheapest cost.
TEMPLATE_BCRYPT_ROUNDS = 4
# Bumped when the sample data changes, so cached templates are built again.
SAMPLE_DATA_VERSION = 2


@dataclass
class _Known:
    expires_at: datetime
    checked_at: float
    gate: SandboxGate = field(default_factory=SandboxGate)


@dataclass(frozen=True)
class Caller:
    """Who manages: the sandbox the request was made in and the user (None: anonymous)."""

    sandbox_id: str
    user: User | None

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.role == Role.admin

    @property
    def is_default_admin(self) -> bool:
        return self.is_admin and self.sandbox_id == DEFAULT_SANDBOX

    def manages(self, sandbox_id: str) -> bool:
        return self.is_default_admin or (self.is_admin and self.sandbox_id == sandbox_id)


class SandboxHub:
    """This process's view of the sandboxes: storage, open engines, known expiries and gates."""

    def __init__(self, *, settings: Settings, registry: Engine) -> None:
        self.settings = settings
        self.registry = registry
        self.storage: SandboxStorage = open_storage(settings)
        self.engines = SandboxEngines(settings, self.storage)
        self._known: dict[str, _Known] = {}
        self._template_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._live_count: tuple[float, int] | None = None
        self._count_lock = threading.Lock()

    # --- the hot path ------------------------------------------------------------------------

    def cached(self, sandbox_id: str) -> tuple[SandboxContext, SandboxGate] | None:
        """The sandbox's context and gate if this process knows it, it is live, its engine is
        open and its registry row was read recently; else None (then call `resolve`)."""
        known = self._known.get(sandbox_id)
        if known is None or time.monotonic() - known.checked_at > self._revalidate:
            return None
        engine = self.engines.get(sandbox_id)
        if engine is None or known.expires_at <= utcnow():
            return None
        return SandboxContext(sandbox_id, engine), known.gate

    @property
    def _revalidate(self) -> float:
        return self.settings.sandbox_revalidate_seconds

    def lookup(self, sandbox_id: str) -> SandboxGate:
        """The live sandbox's gate, after reading its registry row; `SandboxNotFound` when it is
        not live. Blocking (a query): off the event loop."""
        with new_session(self.registry) as session:
            row = session.get(Sandbox, sandbox_id)
        if row is None or row.expires_at <= utcnow():
            self.forget(sandbox_id)
            raise SandboxNotFound.for_id(sandbox_id)
        return self._remember(row).gate

    def open_engine(self, sandbox_id: str) -> Engine:
        """The sandbox's engine, opened (and its schema brought up to date) if it is not open.
        Called inside the sandbox's gate, so never while a restore replaces the database."""
        return self.engines.open(sandbox_id, upgrade_if_behind)

    def resolve(self, sandbox_id: str) -> tuple[SandboxContext, SandboxGate]:
        """`lookup` and `open_engine` together (scripts and tests; requests pass the gate
        between the two)."""
        gate = self.lookup(sandbox_id)
        return SandboxContext(sandbox_id, self.open_engine(sandbox_id)), gate

    def _remember(self, row: Sandbox) -> _Known:
        with self._lock:
            known = self._known.get(row.id)
            if known is None:
                known = self._known[row.id] = _Known(row.expires_at, time.monotonic())
            else:
                known.expires_at, known.checked_at = row.expires_at, time.monotonic()
            return known

    def gate(self, sandbox_id: str) -> SandboxGate:
        with self._lock:
            known = self._known.get(sandbox_id)
            if known is None:
                known = self._known[sandbox_id] = _Known(utcnow(), 0.0)  # to be re-read
            return known.gate

    def forget(self, sandbox_id: str) -> None:
        with self._lock:
            self._known.pop(sandbox_id, None)
        self.engines.close(sandbox_id)

    def live_count(self, session: Session | None = None) -> int:
        """Live sandboxes (the default one not counted), read at most once a second and by one
        thread at a time (the others take the last count meanwhile). Through `session` when it
        is on the registry: a request that holds a connection of that pool never waits for a
        second one."""
        cached = self._live_count
        if cached is not None and time.monotonic() - cached[0] < 1:
            return cached[1]
        if not self._count_lock.acquire(blocking=cached is None):
            assert cached is not None  # only a try that does not wait can fail
            return cached[1]
        try:
            if session is not None and session.get_bind() is self.registry:
                count = _live(session)
            else:
                count = count_live(self.registry)
            self._live_count = (time.monotonic(), count)
        finally:
            self._count_lock.release()
        return count

    def invalidate_count(self) -> None:
        self._live_count = None

    def dispose(self) -> None:
        self.engines.dispose()
        dispose = getattr(self.storage, "dispose", None)
        if dispose is not None:
            dispose()

    def template_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._template_locks.setdefault(key, threading.Lock())


# --- reading ---------------------------------------------------------------------------------


def _live(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Sandbox).where(col(Sandbox.expires_at) > utcnow())
    ).one()


def count_live(registry: Engine) -> int:
    """Live sandboxes in the registry (the default one not counted)."""
    with new_session(registry) as session:
        return _live(session)


def _public(row: Sandbox) -> SandboxPublic:
    return SandboxPublic.model_validate(row, update={"sandbox_id": row.id})


def _managed(session: Session, caller: Caller, sandbox_id: str) -> Sandbox:
    """The live sandbox `sandbox_id` if the caller manages it; 404 alike for unknown, expired
    and someone else's."""
    row = session.get(Sandbox, sandbox_id) if is_sandbox_id(sandbox_id) else None
    if row is None or row.expires_at <= utcnow() or not caller.manages(sandbox_id):
        raise SandboxNotFound.for_id(sandbox_id)
    return row


def list_sandboxes(*, hub: SandboxHub, caller: Caller) -> Sequence[SandboxPublic]:
    """Every live sandbox for the default sandbox's admin; for a sandbox's admin, that one."""
    if not caller.is_admin:
        return []
    with new_session(hub.registry) as session:
        query = select(Sandbox).where(col(Sandbox.expires_at) > utcnow())
        if not caller.is_default_admin:
            query = query.where(col(Sandbox.id) == caller.sandbox_id)
        rows = session.exec(query.order_by(col(Sandbox.created_at), col(Sandbox.id))).all()
    return [_public(row) for row in rows]


def get(*, hub: SandboxHub, caller: Caller, sandbox_id: str) -> SandboxPublic:
    with new_session(hub.registry) as session:
        return _public(_managed(session, caller, sandbox_id))


def list_snapshots(*, hub: SandboxHub, caller: Caller, sandbox_id: str) -> Sequence[SnapshotPublic]:
    with new_session(hub.registry) as session:
        _managed(session, caller, sandbox_id)
        rows = session.exec(
            select(SandboxSnapshot)
            .where(col(SandboxSnapshot.sandbox_id) == sandbox_id)
            .order_by(col(SandboxSnapshot.created_at), col(SandboxSnapshot.name))
        ).all()
    return [SnapshotPublic(name=row.name, created_at=row.created_at) for row in rows]


# --- creating --------------------------------------------------------------------------------


def new_sandbox_id() -> str:
    """`sbx_` and 80 random bits in lower-case base32."""
    return "sbx_" + base64.b32encode(secrets.token_bytes(10)).decode().lower()


def template_key(template: SandboxTemplate, seed: int, customers: int) -> str:
    """Names a template's content: kind, seed, size, schema revision and sample-data version."""
    revision = ",".join(sorted(head_revisions()))
    text = f"{template.value}:{seed}:{customers}:{revision}:{SAMPLE_DATA_VERSION}"
    return "t_" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _build_template(
    hub: SandboxHub, key: str, template: SandboxTemplate, seed: int, size: int
) -> None:
    """Build the template database once (then it is a cached file or database)."""
    storage = hub.storage
    if storage.exists(key):
        return
    with hub.template_lock(key):
        if storage.exists(key):
            return
        building = f"{key}_{secrets.token_hex(4)}"
        storage.create_empty(building)
        settings = hub.settings.model_copy(
            update={"database_url": storage.url(building), "admin_username": None}
        )
        engine = create_db_engine(settings)
        try:
            upgrade_to_head(engine)
            startup.bootstrap(engine=engine, settings=settings)
            with new_session(engine) as session:
                ensure_reference_data(session, settings)
                ensure_staff(session, TEMPLATE_BCRYPT_ROUNDS, seed)
            if template == SandboxTemplate.demo:
                sample_data.seed_sample_data(
                    engine, settings, customers=size, seed=seed, rounds=TEMPLATE_BCRYPT_ROUNDS
                )
        finally:
            engine.dispose()
        if not storage.rename(building, key):  # another process built it meanwhile
            storage.drop(building)
        logger.info(
            "sandbox template %s built (%s, seed %d, %d customers)", key, template, seed, size
        )


def _personalise(engine: Engine, *, demo: bool) -> tuple[StaffCredentials, str | None]:
    """New staff passwords (and a new customer password for `demo`) in a new sandbox, and no
    session, refresh token, API key or throttle state from where it was copied."""
    admin_password, analyst_password = generate_secret(), generate_secret()
    customer_password = generate_secret() if demo else None
    with new_session(engine) as session, write_transaction(session):
        for table in (RefreshToken, AuthSession, ApiKey, Throttle):
            session.execute(delete(table))
        staff = {}
        for role, password in ((Role.admin, admin_password), (Role.analyst, analyst_password)):
            user = session.exec(
                select(User).where(col(User.role) == role).order_by(col(User.id))
            ).first()
            assert user is not None, "every sandbox template has an admin and an analyst"
            user.password_hash = hash_generated_secret(password)
            session.add(user)
            staff[role] = Login(username=user.username, password=password)
        if customer_password is not None:
            session.execute(
                update(User)
                .where(col(User.role) == Role.customer)
                .values(password_hash=hash_generated_secret(customer_password))
            )
    return StaffCredentials(admin=staff[Role.admin], analyst=staff[Role.analyst]), customer_password


def _check_limits(settings: Settings, data: SandboxCreate) -> int:
    """The TTL in hours, after checking the request against the server's limits."""
    if data.customers > settings.sandbox_max_customers:
        raise ValidationFailed(
            f"customers must be at most {settings.sandbox_max_customers} (SANDBOX_MAX_CUSTOMERS)"
        )
    ttl = data.ttl_hours or settings.sandbox_default_ttl_hours
    if ttl > settings.sandbox_max_ttl_hours:
        raise ValidationFailed(
            f"ttl_hours must be at most {settings.sandbox_max_ttl_hours} (SANDBOX_MAX_TTL_HOURS)"
        )
    return ttl


def _reserve(hub: SandboxHub, row: Sandbox) -> None:
    """Register the new sandbox, unless the server is at its limit of live sandboxes."""
    with new_session(hub.registry) as session, write_transaction(session):
        if _live(session) >= hub.settings.sandbox_max_live:
            raise TooManySandboxes()
        session.add(row)
    hub.invalidate_count()


def _source(hub: SandboxHub, caller: Caller, data: SandboxCreate) -> tuple[Sandbox | None, str]:
    """The fork's source row and storage name, or (None, template key)."""
    if data.from_ is None:
        return None, template_key(data.template, data.seed, data.customers)
    with new_session(hub.registry) as session:
        source = _managed(session, caller, data.from_.sandbox_id)
        if data.from_.snapshot is None:
            return source, source.id
        snapshot = session.get(SandboxSnapshot, (source.id, data.from_.snapshot))
        if snapshot is None:
            raise SnapshotNotFound(f"Snapshot {data.from_.snapshot} not found")
        return source, f"{source.id}_{snapshot.storage_key}"


async def create(*, hub: SandboxHub, caller: Caller, data: SandboxCreate) -> SandboxCreated:
    """A new sandbox: from a template, or a fork of another's current state or snapshot."""
    settings = hub.settings
    if not settings.sandboxes_self_service and not caller.is_default_admin:
        raise SandboxForbidden()
    ttl = _check_limits(settings, data)
    source, source_name = await anyio.to_thread.run_sync(_source, hub, caller, data)
    now = utcnow()
    row = Sandbox(
        id=new_sandbox_id(),
        name=data.name,
        template=source.template if source else data.template,
        seed=source.seed if source else data.seed,
        customers=source.customers if source else data.customers,
        forked_from=source.id if source else None,
        created_at=now,
        expires_at=now + timedelta(hours=ttl),
    )
    await anyio.to_thread.run_sync(_reserve, hub, row)
    try:
        if (
            source is not None
            and source_name == source.id
            and hub.storage.copies_need_exclusive_access
        ):
            # PostgreSQL copies only a database nobody is connected to: close the source.
            async with _Closed(hub, source.id):
                await anyio.to_thread.run_sync(hub.storage.copy, source_name, row.id)
            credentials = await anyio.to_thread.run_sync(_make, hub, row, None)
        else:
            credentials = await anyio.to_thread.run_sync(_make, hub, row, source_name)
    except BaseException:
        await anyio.to_thread.run_sync(_remove, hub, row.id)
        raise
    staff, customer_password = credentials
    return SandboxCreated.model_validate(
        _public(row),
        update={"credentials": staff, "customer_password": customer_password},
    )


def _make(
    hub: SandboxHub, row: Sandbox, source_name: str | None
) -> tuple[StaffCredentials, str | None]:
    """Copy the source (unless done already), personalise, and keep the result for `reset`."""
    storage = hub.storage
    if source_name is not None:
        if source_name.startswith("t_"):
            _build_template(hub, source_name, row.template, row.seed, row.customers)
        storage.copy(source_name, row.id)
    engine = hub.engines.open(row.id, upgrade_if_behind)
    credentials = _personalise(engine, demo=row.template == SandboxTemplate.demo)
    if storage.copies_need_exclusive_access:
        hub.engines.close(row.id)  # nobody else knows the sandbox yet
    storage.copy(row.id, f"{row.id}_{RESET_KEY}")
    hub._remember(row)
    return credentials


# --- snapshots, restore, reset ---------------------------------------------------------------


class _Closed:
    """The sandbox's gate closed for the block (and its engine closed, where copies need
    exclusive access): requests in flight finish first, new ones wait."""

    def __init__(self, hub: SandboxHub, sandbox_id: str) -> None:
        self.hub = hub
        self.sandbox_id = sandbox_id
        self.gate = hub.gate(sandbox_id)
        self._block = self.gate.closed(GATE_TIMEOUT_SECONDS)

    async def __aenter__(self) -> None:
        try:
            await self._block.__aenter__()
        except GateTimeout:
            raise SandboxBusy("The sandbox is busy with requests, try again in a moment") from None
        if self.hub.storage.copies_need_exclusive_access:
            self.hub.engines.close(self.sandbox_id)

    async def __aexit__(self, *exc: object) -> None:
        await self._block.__aexit__(*exc)  # type: ignore[arg-type]


async def create_snapshot(
    *, hub: SandboxHub, caller: Caller, sandbox_id: str, data: SnapshotCreate
) -> SnapshotPublic:
    def register() -> SandboxSnapshot:
        with new_session(hub.registry) as session, write_transaction(session):
            _managed(session, caller, sandbox_id)
            if session.get(SandboxSnapshot, (sandbox_id, data.name)) is not None:
                raise SnapshotExists()
            snapshot = SandboxSnapshot(
                sandbox_id=sandbox_id,
                name=data.name,
                storage_key=secrets.token_hex(6),
                created_at=utcnow(),
            )
            session.add(snapshot)
            return snapshot

    snapshot = await anyio.to_thread.run_sync(register)
    target = f"{sandbox_id}_{snapshot.storage_key}"
    try:
        if hub.storage.copies_need_exclusive_access:
            async with _Closed(hub, sandbox_id):
                await anyio.to_thread.run_sync(hub.storage.copy, sandbox_id, target)
        else:
            await anyio.to_thread.run_sync(hub.storage.copy, sandbox_id, target)
    except BaseException:
        await anyio.to_thread.run_sync(_drop_snapshot_row, hub, sandbox_id, data.name)
        raise
    return SnapshotPublic(name=snapshot.name, created_at=snapshot.created_at)


def _drop_snapshot_row(hub: SandboxHub, sandbox_id: str, name: str) -> str | None:
    with new_session(hub.registry) as session, write_transaction(session):
        snapshot = session.get(SandboxSnapshot, (sandbox_id, name))
        if snapshot is None:
            return None
        session.delete(snapshot)
        return f"{sandbox_id}_{snapshot.storage_key}"


def delete_snapshot(*, hub: SandboxHub, caller: Caller, sandbox_id: str, name: str) -> None:
    with new_session(hub.registry) as session:
        _managed(session, caller, sandbox_id)
    storage_name = _drop_snapshot_row(hub, sandbox_id, name)
    if storage_name is None:
        raise SnapshotNotFound(f"Snapshot {name} not found")
    hub.storage.drop(storage_name)


async def restore(
    *, hub: SandboxHub, caller: Caller, sandbox_id: str, snapshot: str | None
) -> SandboxPublic:
    """Make the sandbox exactly what it was at `snapshot` (None: when it was created)."""

    def source() -> tuple[Sandbox, str]:
        with new_session(hub.registry) as session:
            row = _managed(session, caller, sandbox_id)
            if snapshot is None:
                return row, f"{sandbox_id}_{RESET_KEY}"
            found = session.get(SandboxSnapshot, (sandbox_id, snapshot))
            if found is None:
                raise SnapshotNotFound(f"Snapshot {snapshot} not found")
            return row, f"{sandbox_id}_{found.storage_key}"

    row, source_name = await anyio.to_thread.run_sync(source)
    async with _Closed(hub, sandbox_id):
        await anyio.to_thread.run_sync(hub.storage.copy, source_name, sandbox_id)
        # Pooled connections may have cached pages of the old state: start afresh.
        hub.engines.close(sandbox_id)
    return _public(row)


# --- removing --------------------------------------------------------------------------------


def _remove(hub: SandboxHub, sandbox_id: str) -> None:
    """Forget the sandbox and remove its storage: live database, reset copy, snapshots."""
    with new_session(hub.registry) as session, write_transaction(session):
        keys = session.exec(
            select(SandboxSnapshot.storage_key).where(col(SandboxSnapshot.sandbox_id) == sandbox_id)
        ).all()
        session.execute(
            delete(SandboxSnapshot).where(col(SandboxSnapshot.sandbox_id) == sandbox_id)
        )
        session.execute(delete(Sandbox).where(col(Sandbox.id) == sandbox_id))
    hub.forget(sandbox_id)
    hub.invalidate_count()
    for name in (sandbox_id, f"{sandbox_id}_{RESET_KEY}", *(f"{sandbox_id}_{k}" for k in keys)):
        hub.storage.drop(name)


def delete_sandbox(*, hub: SandboxHub, caller: Caller, sandbox_id: str) -> None:
    with new_session(hub.registry) as session:
        _managed(session, caller, sandbox_id)
    _remove(hub, sandbox_id)


def remove_expired(*, hub: SandboxHub) -> int:
    """Remove every sandbox past its expiry; how many."""
    with new_session(hub.registry) as session:
        expired = session.exec(select(Sandbox.id).where(col(Sandbox.expires_at) <= utcnow())).all()
    for sandbox_id in expired:
        _remove(hub, sandbox_id)
    if expired:
        logger.info("removed %d expired sandbox(es)", len(expired))
    return len(expired)


def catch_up_clocks(*, hub: SandboxHub, default: Engine) -> int:
    """Run what fell due in the default sandbox and in every sandbox this process has open
    (a sandbox's engine opens with its first request, so one in use is among them), each
    inside its gate: a sandbox being restored is left for the next tick. How many ran some."""
    ran = 0
    for sandbox_id in [None, *hub.engines.open_ids()]:
        gate = None if sandbox_id is None else hub.gate(sandbox_id)
        if gate is not None and not gate.try_enter():
            continue
        try:
            engine = default if sandbox_id is None else hub.engines.get(sandbox_id)
            if engine is None:
                continue
            with new_session(engine) as session:
                executed = clock.catch_up(session=session, settings=hub.settings)
        except OperationalError as exc:
            # Busy (an advance holds the sandbox's write lock for long) or down: the next tick
            # runs it; the other sandboxes still run theirs.
            logger.warning(
                "what fell due in %s waits for the next tick: %s",
                sandbox_id or "the default bank",
                exc.orig,
            )
            continue
        finally:
            if gate is not None:
                gate.leave()
        if executed:
            ran += 1
            logger.info("ran what fell due in %s: %s", sandbox_id or "the default bank", executed)
    return ran


def open_for_script(*, settings: Settings, registry: Engine, sandbox_id: str) -> Engine:
    """An engine on a live sandbox's database, for `seed.py --sandbox`; SystemExit otherwise."""
    if not is_sandbox_id(sandbox_id):
        raise SystemExit(f"{sandbox_id!r} is not a sandbox id (sbx_ and 16 characters)")
    with new_session(registry) as session:
        row = session.get(Sandbox, sandbox_id)
    if row is None or row.expires_at <= utcnow():
        raise SystemExit(f"Sandbox {sandbox_id} not found")
    storage = open_storage(settings)
    engine = create_db_engine(settings.model_copy(update={"database_url": storage.url(sandbox_id)}))
    upgrade_if_behind(engine)
    return engine

"""Sandboxes: isolated banks in this server, and their snapshots."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status
from fastapi.concurrency import run_in_threadpool

from app.api.deps import NO_STORE, SandboxCaller, SandboxCreator, SandboxHubDep
from app.api.routing import api_router
from app.core.sandbox_context import SANDBOX_ID_PATTERN
from app.models.sandbox import (
    SNAPSHOT_NAME_PATTERN,
    RestoreRequest,
    SandboxCreate,
    SandboxCreated,
    SandboxPublic,
    SnapshotCreate,
    SnapshotPublic,
)
from app.schemas.errors import error_responses
from app.services import sandboxes

router = api_router(prefix="/sandboxes", tags=["sandboxes"])

SandboxId = Annotated[str, Path(pattern=SANDBOX_ID_PATTERN, description="The sandbox's id")]
SnapshotName = Annotated[
    str, Path(pattern=SNAPSHOT_NAME_PATTERN, description="The snapshot's name")
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a sandbox (a bank of your own), from a template or as a fork",
    responses=error_responses(401, 403, 404, 422, 429),
)
async def create_sandbox(
    body: SandboxCreate, caller: SandboxCreator, hub: SandboxHubDep, response: Response
) -> SandboxCreated:
    created = await sandboxes.create(hub=hub, caller=caller, data=body)
    response.headers.update(NO_STORE)
    return created


@router.get(
    "",
    summary="The sandboxes you manage (all of them for the default sandbox's admin)",
    responses=error_responses(401),
)
def list_sandboxes(caller: SandboxCaller, hub: SandboxHubDep) -> list[SandboxPublic]:
    return list(sandboxes.list_sandboxes(hub=hub, caller=caller))


@router.get("/{sandbox_id}", summary="One sandbox", responses=error_responses(401, 404, 422))
def get_sandbox(sandbox_id: SandboxId, caller: SandboxCaller, hub: SandboxHubDep) -> SandboxPublic:
    return sandboxes.get(hub=hub, caller=caller, sandbox_id=sandbox_id)


@router.delete(
    "/{sandbox_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a sandbox: its data, snapshots and every token of it are gone",
    responses=error_responses(401, 404, 422),
)
def delete_sandbox(sandbox_id: SandboxId, caller: SandboxCaller, hub: SandboxHubDep) -> None:
    sandboxes.delete_sandbox(hub=hub, caller=caller, sandbox_id=sandbox_id)


@router.post(
    "/{sandbox_id}/snapshots",
    status_code=status.HTTP_201_CREATED,
    summary="Snapshot the sandbox's whole state under a name",
    responses=error_responses(401, 404, 409, 422, 503),
)
async def create_snapshot(
    sandbox_id: SandboxId, body: SnapshotCreate, caller: SandboxCaller, hub: SandboxHubDep
) -> SnapshotPublic:
    return await sandboxes.create_snapshot(hub=hub, caller=caller, sandbox_id=sandbox_id, data=body)


@router.get(
    "/{sandbox_id}/snapshots",
    summary="The sandbox's snapshots, oldest first",
    responses=error_responses(401, 404, 422),
)
def list_snapshots(
    sandbox_id: SandboxId, caller: SandboxCaller, hub: SandboxHubDep
) -> list[SnapshotPublic]:
    return list(sandboxes.list_snapshots(hub=hub, caller=caller, sandbox_id=sandbox_id))


@router.delete(
    "/{sandbox_id}/snapshots/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a snapshot",
    responses=error_responses(401, 404, 422),
)
async def delete_snapshot(
    sandbox_id: SandboxId, name: SnapshotName, caller: SandboxCaller, hub: SandboxHubDep
) -> None:
    await run_in_threadpool(
        sandboxes.delete_snapshot, hub=hub, caller=caller, sandbox_id=sandbox_id, name=name
    )


@router.post(
    "/{sandbox_id}/restore",
    summary="Restore a snapshot: every row as it was; tokens and keys issued since are dead",
    responses=error_responses(401, 404, 422, 503),
)
async def restore_sandbox(
    sandbox_id: SandboxId, body: RestoreRequest, caller: SandboxCaller, hub: SandboxHubDep
) -> SandboxPublic:
    return await sandboxes.restore(
        hub=hub, caller=caller, sandbox_id=sandbox_id, snapshot=body.snapshot
    )


@router.post(
    "/{sandbox_id}/reset",
    summary="Reset the sandbox to exactly how it was created",
    responses=error_responses(401, 404, 422, 503),
)
async def reset_sandbox(
    sandbox_id: SandboxId, caller: SandboxCaller, hub: SandboxHubDep
) -> SandboxPublic:
    return await sandboxes.restore(hub=hub, caller=caller, sandbox_id=sandbox_id, snapshot=None)

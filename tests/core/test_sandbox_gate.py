"""The gate a restore closes: requests inside finish first, requests that come meanwhile wait."""

from __future__ import annotations

import asyncio

import pytest

from app.core.sandbox_gate import GateTimeout, SandboxGate


def test_a_restore_waits_for_requests_inside_and_holds_new_ones() -> None:
    async def scenario() -> list[str]:
        gate = SandboxGate()
        events: list[str] = []
        assert gate.try_enter()  # a request in flight

        async def restore() -> None:
            async with gate.closed(timeout=5):
                events.append("restore runs")
                await asyncio.sleep(0.01)
                events.append("restore done")

        async def late_request() -> None:
            await asyncio.sleep(0.005)  # arrives while the restore waits
            assert not gate.try_enter()
            await gate.enter(timeout=5)
            events.append("late request runs")
            gate.leave()

        async def finish_first() -> None:
            await asyncio.sleep(0.02)
            events.append("request in flight done")
            gate.leave()

        await asyncio.gather(restore(), late_request(), finish_first())
        assert gate.inside == 0
        return events

    assert asyncio.run(scenario()) == [
        "request in flight done",
        "restore runs",
        "restore done",
        "late request runs",
    ]


def test_a_restore_gives_up_when_requests_do_not_leave() -> None:
    async def scenario() -> None:
        gate = SandboxGate()
        assert gate.try_enter()
        with pytest.raises(GateTimeout):
            async with gate.closed(timeout=0.01):
                pass  # pragma: no cover - never entered
        assert gate.try_enter()  # open again after the failed restore

    asyncio.run(scenario())


def test_a_request_gives_up_when_the_gate_stays_closed() -> None:
    async def scenario() -> None:
        gate = SandboxGate()
        async with gate.closed(timeout=1):
            with pytest.raises(GateTimeout):
                await gate.enter(timeout=0.01)

    asyncio.run(scenario())

"""A service asked to stop stops: a connection still held, or a broker that will not stop, costs
at most `STOP_SECONDS` each, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from keepword_platform import service
from keepword_platform.database import open_pool

pytestmark = [pytest.mark.postgres]


async def test_a_pool_whose_connection_is_still_held_is_closed_anyway(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "STOP_SECONDS", 0.5)
    pool = await open_pool(database_url)
    held = await pool.acquire()
    await held.execute("BEGIN")  # a batch's transaction, never finished
    started = time.monotonic()
    await service.close_pool(pool)
    assert time.monotonic() - started < 5
    assert pool.is_closing()
    with pytest.raises(asyncpg.InterfaceError):
        await held.fetchval("SELECT 1")


async def test_a_pool_given_back_closes_at_once(database_url: str) -> None:
    pool = await open_pool(database_url)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT 1") == 1
    started = time.monotonic()
    await service.close_pool(pool)
    assert time.monotonic() - started < service.STOP_SECONDS


class _StuckBroker:
    async def stop(self) -> None:
        await asyncio.Event().wait()  # a consumer that never stops


async def test_a_broker_that_will_not_stop_is_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "STOP_SECONDS", 0.2)
    started = time.monotonic()
    await service.stop_broker(_StuckBroker())  # type: ignore[arg-type]
    assert time.monotonic() - started < 2

"""Promises due at the very ends of the calendar (0001-01-01T00:00:00Z, stored by PostgreSQL as
-infinity, and 9999-12-31T23:59:59Z) stop no timer: the other promises still go at risk and are
broken on time. The one long past due cannot be announced any more (the contract refuses its
date), so its timers are set aside with that reason and the service says so in its readiness;
the other waits. The rows are written as the ledger wrote them before intake refused such
dates; the service runs in-process."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from keepword_commitments import domain, repository
from keepword_commitments.handlers import DUE, SCHEMA, WARN
from keepword_events import CommitmentKind, CommitmentSource
from keepword_platform.messaging import timers

from .conftest import Ledger
from .test_ledger import MARKETING, SALES, declared, new_thread, statuses

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

FIRST_DAY = datetime(1, 1, 1, tzinfo=UTC)
LAST_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


async def store_as_before(
    database_url: str, thread: str, commitment_id: str, due: datetime
) -> None:
    """A promise and its two timers, as the ledger stored a declared one (no intake check)."""
    now = datetime.now(UTC)
    move = domain.declare(
        commitment_id=commitment_id,
        thread_id=thread,
        kind=CommitmentKind.DELIVERY,
        text="Delivered by the date agreed",
        made_by=MARKETING,
        customer=None,
        due_at=due,
        source=CommitmentSource(kind="declared"),
        at=now,
    )
    warn_at = domain.warning_time(now, due, 0.75)
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await repository.record(conn, move, f"evt-{uuid.uuid4()}")
            await timers.set_timers(
                conn, SCHEMA, [(DUE, commitment_id, due), (WARN, commitment_id, warn_at)]
            )
    finally:
        await conn.close()


async def test_promises_due_at_the_ends_of_the_calendar_stop_no_timer(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timers, "RETRY_FAILED_AFTER", timedelta(seconds=1))  # not a minute
    thread = new_thread()
    past, future = f"cmt-first-{thread}", f"cmt-last-{thread}"
    await store_as_before(database_url, thread, past, FIRST_DAY)
    await store_as_before(database_url, thread, future, LAST_SECOND)
    other = new_thread()
    await ledger.send(
        declared(
            other,
            f"cmt-{other}",
            kind=CommitmentKind.RESPONSE_TIME,
            made_by=SALES,
            text="You will hear from us within four seconds",
            due_at=datetime.now(UTC) + timedelta(seconds=4),
        )
    )

    # The other promise's timers fire: at risk, then broken.
    records = await ledger.wait_for(lambda r: len(statuses(r, other)) == 3, within=60)
    assert [(s.status.value, s.at_risk) for s in statuses(records, other)] == [
        ("declared", False),
        ("declared", True),
        ("broken", False),
    ]

    async def set_aside() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(database_url)
        try:
            return [t for t in await timers.set_aside_timers(conn, SCHEMA) if t["subject"] == past]
        finally:
            await conn.close()

    deadline = asyncio.get_running_loop().time() + 60
    while len(await set_aside()) < 2:
        assert asyncio.get_running_loop().time() < deadline, await set_aside()
        await asyncio.sleep(0.2)

    aside = await set_aside()
    assert sorted(t["kind"] for t in aside) == [DUE, WARN]
    assert all(t["attempts"] == timers.MAX_ATTEMPTS for t in aside)
    assert all(t["reason"].startswith("handler failed 3 times: ValidationError: ") for t in aside)
    status_code, checks = await ready(ledger)
    assert status_code == 503, checks
    assert checks["timers"].startswith("2 timer(s) set aside in the last 60s; latest: "), checks
    assert checks["timers"].endswith(f" of {past}: ValidationError"), checks

    conn = await asyncpg.connect(database_url)
    try:
        left = await conn.fetch(
            "SELECT kind, fire_at FROM commitments.timers WHERE subject = ANY($1) ORDER BY kind",
            [past, future],
        )
        loaded = await repository.find(conn, future)
    finally:
        await conn.close()
    # The last second of the calendar waits, read back as aware UTC like every stored time.
    assert [row["kind"] for row in left] == [DUE, WARN]
    assert timers.as_utc(left[0]["fire_at"]) == LAST_SECOND
    assert loaded is not None
    assert loaded.due_at == LAST_SECOND
    assert [s.commitment_id for s in statuses(records, thread)] == []  # nothing announced


async def ready(ledger: Ledger) -> tuple[int, dict[str, str]]:
    answer = await ledger.http.get("/healthz/ready")
    checks: dict[str, str] = answer.json()["checks"]
    return answer.status_code, checks

"""Fixtures of the notifier's integration tests: its database schema and an SMTP catcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from keepword_notifier.app import MIGRATIONS
from keepword_notifier.dispatcher import SCHEMA
from keepword_notifier.smtp import SmtpServer
from keepword_platform.database import Connection
from keepword_platform.migrations import apply_migrations

from .mail import Catcher, catching


@pytest.fixture
def smtp() -> Iterator[tuple[Catcher, SmtpServer]]:
    """A catcher, and the notifier's way to reach it."""
    with catching() as (catcher, port):
        yield catcher, SmtpServer(host="127.0.0.1", port=port, timeout_seconds=5)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The notifier's schema, with nothing left due by earlier tests."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    async with pool.acquire() as conn:
        await apply_migrations(conn, SCHEMA, MIGRATIONS)
        await settle(conn)
    yield pool
    await pool.close()


async def settle(conn: Connection) -> None:
    """The sender takes whatever is due: settle what earlier tests left waiting, so a test
    counts only its own emails."""
    await conn.execute(
        "UPDATE notifier.sends SET status = 'failed', last_error = 'settled by a test'"
        " WHERE status IN ('held', 'pending', 'digested')"
    )

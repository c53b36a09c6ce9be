"""Fixtures of the notifier's integration tests: its database schema and an SMTP catcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from keepword_notifier.app import MIGRATIONS, create_app
from keepword_notifier.dispatcher import SCHEMA
from keepword_notifier.settings import NotifierSettings
from keepword_notifier.smtp import SmtpServer
from keepword_platform.database import Connection
from keepword_platform.migrations import apply_migrations

from .mail import Catcher, catching
from .running import CONFIG


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


@pytest.fixture
async def notifier(
    fresh_kafka: str, database_url: str, tmp_path: Path, db: asyncpg.Pool
) -> AsyncIterator[Catcher]:
    """The notifier running in this process (its real lifespan) on the session's private
    broker, sending to a catcher; digests off (their own tests turn them on)."""
    # A record that is not an event is remembered by its position (topic, partition, offset).
    # The database outlives the session's private broker, whose offsets start again at 0: forget
    # earlier sessions' positions, or a poison record here would look handled already.
    await db.execute("DELETE FROM notifier.inbox WHERE event_id LIKE 'dlq:%'")
    config = tmp_path / "k.toml"
    config.write_text(CONFIG)
    with catching() as (catcher, port):
        app = create_app(
            NotifierSettings(
                kafka_bootstrap=fresh_kafka,
                database_url=database_url,
                config=config,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                digest_seconds=0,
            )
        )
        async with app.router.lifespan_context(app):
            yield catcher

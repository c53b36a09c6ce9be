"""The asyncpg connection pool of a service."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection, whether held alone or borrowed from a pool.
Connection = asyncpg.Connection | PoolConnectionProxy


async def open_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool to `database_url`; fails fast with the server's own error when it is unreachable."""
    pool = await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, command_timeout=30
    )
    if pool is None:  # only when the pool is created without awaiting
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def database_ready(pool: asyncpg.Pool, wait_seconds: float = 2.0) -> bool:
    """Whether the database answers a trivial query within `wait_seconds`."""
    try:
        return bool(await pool.fetchval("SELECT 1", timeout=wait_seconds))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False


def shown_url(database_url: str) -> str:
    """`database_url` fit for a message or a log: its password, if any, replaced by `***`."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))

"""API keys for tests and tools that call the services' HTTP APIs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg
from keepword_platform import auth
from keepword_platform.auth.grants import Scope
from keepword_platform.auth.store import create_api_key
from keepword_platform.migrations import apply_migrations


def bearer(key: str) -> dict[str, str]:
    """The header that sends `key`."""
    return {"Authorization": f"Bearer {key}"}


async def new_key(
    database: str | asyncpg.Pool,
    scopes: Iterable[Scope | str],
    *,
    manager: str | None = None,
    name: str | None = None,
) -> str:
    """A fresh key made for `scopes` (its text), in the database at a URL or of a pool."""
    wanted = frozenset(Scope(scope) for scope in scopes)
    name = name or f"test-{'-'.join(sorted(wanted))}-{uuid.uuid4().hex[:8]}"
    if isinstance(database, asyncpg.Pool):
        return (await create_api_key(database, name, wanted, manager=manager)).text
    conn = await asyncpg.connect(database)
    try:  # a service not started yet has not made the schema
        await apply_migrations(conn, auth.SCHEMA, auth.MIGRATIONS)
        return (await create_api_key(conn, name, wanted, manager=manager)).text
    finally:
        await conn.close()

"""API keys in the real PostgreSQL: keys made before scopes keep every scope; the table refuses
what the store never writes."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from keepword_platform import auth
from keepword_platform.migrations import load_migrations

pytestmark = pytest.mark.postgres


async def test_keys_made_before_scopes_keep_read_write_and_decide(database_url: str) -> None:
    schema = f"auth_old_{uuid.uuid4().hex[:8]}"
    first, *later = load_migrations(auth.MIGRATIONS[0])
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
        await conn.execute(first.sql)
        await conn.execute(
            "INSERT INTO api_keys (key_id, name, digest) VALUES ('0123456789ab', 'old', '')"
        )
        for migration in later:
            await conn.execute(migration.sql)

        scopes = await conn.fetchval("SELECT scopes FROM api_keys WHERE name = 'old'")
        assert scopes == ["read", "write", "decide"]
        with pytest.raises(asyncpg.NotNullViolationError):  # a new key names its scopes
            await conn.execute(
                "INSERT INTO api_keys (key_id, name, digest) VALUES ('ba9876543210', 'new', '')"
            )
        with pytest.raises(asyncpg.CheckViolationError):  # only a decide key has a manager
            await conn.execute(
                """INSERT INTO api_keys (key_id, name, digest, scopes, manager)
                   VALUES ('ba9876543210', 'new', '', '{read}', 'm@example.com')"""
            )
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()

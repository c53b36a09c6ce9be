"""Migrations against the real PostgreSQL: applied once, in order, even by racing instances."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from keepword_platform.migrations import apply_migrations, load_migrations

pytestmark = pytest.mark.postgres

PACKAGE = "keepword_intake"  # any package with migrations will do


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(database_url)
    await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    await conn.close()


async def test_applies_each_migration_once(database_url: str, schema: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        first = await apply_migrations(conn, schema, PACKAGE)
        second = await apply_migrations(conn, schema, PACKAGE)
        versions = await conn.fetch(f"SELECT version FROM {schema}.applied_migrations")
    finally:
        await conn.close()

    assert first == [f"{PACKAGE}:{m.name}" for m in load_migrations(PACKAGE)]
    assert first, "the package ships migrations"
    assert second == []
    assert len(versions) == len(first)


async def test_racing_instances_apply_each_file_once(database_url: str, schema: str) -> None:
    conns = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, schema, PACKAGE) for c in conns))
    finally:
        for conn in conns:
            await conn.close()

    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(f"{PACKAGE}:{m.name}" for m in load_migrations(PACKAGE))


async def test_several_packages_share_a_schema(database_url: str, schema: str) -> None:
    packages = ["keepword_platform.messaging", PACKAGE]
    conn = await asyncpg.connect(database_url)
    try:
        applied = await apply_migrations(conn, schema, packages)
        tables = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
            )
        }
    finally:
        await conn.close()

    assert applied[0].startswith("keepword_platform.messaging:")
    assert {"inbox", "outbox", "idempotency_keys", "applied_migrations"} <= tables


async def test_refuses_a_hostile_schema_name(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(ValueError, match="bad schema name"):
            await apply_migrations(conn, "x; DROP TABLE users", PACKAGE)
    finally:
        await conn.close()

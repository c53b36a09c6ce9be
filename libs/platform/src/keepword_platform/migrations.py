"""Versioned SQL migrations, one PostgreSQL schema per service.

A package's migrations are the files `NNNN_name.sql` in its `migrations/` folder. A service's
schema gets the migrations of one or more packages (its own, and shared ones such as the inbox
and outbox of `keepword_platform.messaging`), numbered per package. They are applied in order at
start-up (or by `keepword db migrate`), each in its own transaction, under an advisory lock so
that several instances starting together apply each file exactly once.
The schema name is interpolated into SQL (identifiers cannot be parameters); it is checked
against a strict pattern first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import structlog

from .database import Connection

log = structlog.get_logger(__name__)

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """The migrations shipped in `package`/migrations, in version order."""
    folder = resources.files(package) / "migrations"
    if not folder.is_dir():
        return []
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{package}: two migrations share a version number")
    return found


async def apply_migrations(
    conn: Connection, schema: str, packages: Sequence[str] | str
) -> list[str]:
    """Create `schema` if needed and apply the pending migrations of `packages` to it, in order.

    Returns the files applied now, as `package:file`.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"bad schema name {schema!r}")
    if isinstance(packages, str):
        packages = [packages]
    applied_now: list[str] = []
    async with conn.transaction():
        # One lock per schema: concurrent starts queue here instead of racing.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrations:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.applied_migrations (
                    package text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (package, version))"""
        )
        listed = f"SELECT package, version FROM {schema}.applied_migrations"  # noqa: S608
        done = {(row["package"], row["version"]) for row in await conn.fetch(listed)}
        record = f"INSERT INTO {schema}.applied_migrations VALUES ($1, $2, $3)"  # noqa: S608
        for package in packages:
            for migration in load_migrations(package):
                if (package, migration.version) in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL search_path TO {schema}, public")
                    await conn.execute(migration.sql)
                    await conn.execute(record, package, migration.version, migration.name)
                applied_now.append(f"{package}:{migration.name}")
                log.info("migration applied", schema=schema, migration=migration.name)
    return applied_now

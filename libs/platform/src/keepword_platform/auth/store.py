"""API keys in PostgreSQL (schema `auth`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from keepword_platform.auth.keys import NewApiKey, new_api_key, parse_api_key, secret_matches
from keepword_platform.database import Connection


class ApiKeyNameTaken(ValueError):
    """An active key already has this name."""


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """A stored key, without its digest."""

    key_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


async def create_api_key(conn: Connection | asyncpg.Pool, name: str) -> NewApiKey:
    """Make and store a new key named `name`; the caller shows its text once."""
    key = new_api_key()
    try:
        await conn.execute(
            "INSERT INTO auth.api_keys (key_id, name, digest) VALUES ($1, $2, $3)",
            key.key_id,
            name,
            key.digest,
        )
    except asyncpg.UniqueViolationError:
        raise ApiKeyNameTaken(f"an active API key is already named {name!r}") from None
    return key


async def revoke_api_key(conn: Connection | asyncpg.Pool, name_or_id: str) -> int:
    """Revoke the active key with this name or key id; returns how many were revoked."""
    status: str = await conn.execute(
        """UPDATE auth.api_keys SET revoked_at = now()
            WHERE revoked_at IS NULL AND (name = $1 OR key_id = $1)""",
        name_or_id,
    )
    return int(status.split()[-1])


async def list_api_keys(conn: Connection | asyncpg.Pool) -> list[ApiKeyInfo]:
    """Every key ever made, newest first."""
    rows = await conn.fetch(
        "SELECT key_id, name, created_at, revoked_at FROM auth.api_keys ORDER BY created_at DESC"
    )
    return [ApiKeyInfo(**dict(row)) for row in rows]


async def authenticate(conn: Connection | asyncpg.Pool, text: str) -> str | None:
    """The name of the active key `text`, or None when it is unknown, revoked or malformed."""
    parsed = parse_api_key(text)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = await conn.fetchrow(
        "SELECT name, digest FROM auth.api_keys WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    if row is None or not secret_matches(secret, row["digest"]):
        return None
    name: str = row["name"]
    return name

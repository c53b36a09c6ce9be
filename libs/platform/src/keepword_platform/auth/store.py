"""API keys in PostgreSQL (schema `auth`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from keepword_platform.auth.grants import DEFAULT_SCOPES, Grant, Scope, scopes_text
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
    scopes: frozenset[Scope]
    manager: str | None
    expires_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """ "active", "revoked" or "expired"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


async def create_api_key(
    conn: Connection | asyncpg.Pool,
    name: str,
    scopes: Iterable[Scope] = DEFAULT_SCOPES,
    *,
    manager: str | None = None,
    expires_at: datetime | None = None,
) -> NewApiKey:
    """Make and store a new key named `name`; the caller shows its text once.

    `manager` (an email) binds a `decide` key to the manager it decides for.
    """
    granted = frozenset(scopes)
    if manager is not None and Scope.DECIDE not in granted:
        raise ValueError("only a key with the decide scope is bound to a manager")
    key = new_api_key()
    try:
        await conn.execute(
            """INSERT INTO auth.api_keys (key_id, name, digest, scopes, manager, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            key.key_id,
            name,
            key.digest,
            scopes_text(granted).split(","),
            manager.lower() if manager else None,
            expires_at,
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


def _scopes(row: asyncpg.Record | dict[str, Any]) -> frozenset[Scope]:
    return frozenset(Scope(name) for name in row["scopes"])


async def list_api_keys(conn: Connection | asyncpg.Pool) -> list[ApiKeyInfo]:
    """Every key ever made, newest first."""
    rows = await conn.fetch(
        """SELECT key_id, name, created_at, revoked_at, scopes, manager, expires_at, last_used_at
             FROM auth.api_keys ORDER BY created_at DESC"""
    )
    return [ApiKeyInfo(**(dict(row) | {"scopes": _scopes(row)})) for row in rows]


async def authenticate(conn: Connection | asyncpg.Pool, text: str) -> Grant | None:
    """What the unrevoked key `text` may do, or None when it is unknown, revoked or malformed.

    An expired key is returned (its `expires_at` says so), for the caller to tell the client.
    """
    parsed = parse_api_key(text)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = await conn.fetchrow(
        """SELECT name, digest, scopes, manager, expires_at FROM auth.api_keys
            WHERE key_id = $1 AND revoked_at IS NULL""",
        key_id,
    )
    if row is None or not secret_matches(secret, row["digest"]):
        return None
    return Grant(
        key_id=key_id,
        name=row["name"],
        scopes=_scopes(row),
        manager=row["manager"],
        expires_at=row["expires_at"],
    )


async def record_use(conn: Connection | asyncpg.Pool, key_ids: Iterable[str]) -> None:
    """Note that these keys were used now (for `keepword apikey list`)."""
    await conn.execute(
        "UPDATE auth.api_keys SET last_used_at = now() WHERE key_id = ANY($1::text[])",
        list(key_ids),
    )

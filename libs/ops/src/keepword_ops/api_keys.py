"""`keepword apikey`: make, revoke and list API keys (the CLI module only parses and prints)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from keepword_events import Role
from keepword_platform import auth
from keepword_platform.auth import store
from keepword_platform.auth.grants import Scope, expiry
from keepword_platform.auth.store import ApiKeyInfo
from keepword_platform.company import CompanyConfig
from keepword_platform.migrations import apply_migrations

from .commands import _database
from .errors import OpsError


def manager_of(company: CompanyConfig | None, email: str) -> str:
    """The manager a decide key is bound to, as the company configuration names them.

    Without a configuration (KEEPWORD_CONFIG unset) the email is taken as given: escalation
    checks it against its own configuration at each decision anyway.
    """
    if company is None:
        return email.strip().lower()
    person = company.person(email.strip())
    if person is None or person.role is not Role.MANAGEMENT:
        managers = ", ".join(p.email for p in company.management_chain()) or "none"
        raise OpsError(f"{email} is not a manager of the configured chain (managers: {managers})")
    return person.email.lower()


def expiry_of(
    now: datetime, expires_in: timedelta | None, expires_on: date | None
) -> datetime | None:
    """When the key stops working, or an OpsError saying why the options cannot be used."""
    try:
        return expiry(now, expires_in=expires_in, expires_on=expires_on)
    except ValueError as error:
        raise OpsError(str(error)) from None


async def create(
    url: str,
    name: str,
    scopes: frozenset[Scope],
    *,
    manager: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new API key's text (the `auth` schema's migrations are applied first if needed)."""
    if manager is not None and Scope.DECIDE not in scopes:
        raise OpsError("--manager binds a decide key: add decide to --scope")
    async with _database(url) as conn:
        await apply_migrations(conn, auth.SCHEMA, auth.MIGRATIONS)
        try:
            key = await store.create_api_key(
                conn, name, scopes, manager=manager, expires_at=expires_at
            )
        except store.ApiKeyNameTaken as error:
            raise OpsError(str(error)) from None
        return key.text


async def revoke(url: str, name: str) -> int:
    """Revoke a key by name or id."""
    async with _database(url) as conn:
        return await store.revoke_api_key(conn, name)


async def listing(url: str) -> list[ApiKeyInfo]:
    """Every stored key."""
    async with _database(url) as conn:
        await apply_migrations(conn, auth.SCHEMA, auth.MIGRATIONS)
        return await store.list_api_keys(conn)

"""What the CLI does, as plain async functions (the CLI module only parses and prints)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
from keepword_platform import auth, kafka
from keepword_platform.database import shown_url
from keepword_platform.migrations import apply_migrations, load_migrations
from keepword_platform.registry import installed_services

from .clients import kafka_errors, security_options
from .errors import OpsError

Schemas = tuple[tuple[str, Sequence[str]], ...]


def service_schemas() -> Schemas:
    """Every schema and the packages whose migrations build it, as the services register them.

    The shared ones (API keys) come first; a schema two services share is listed once.
    """
    schemas: dict[str, Sequence[str]] = {auth.SCHEMA: auth.MIGRATIONS}
    for installed in installed_services().values():
        service = installed.service
        schemas.update(dict(service.shared_schemas))
        schemas[service.schema] = tuple(service.migrations_packages)
    return tuple(schemas.items())


def __getattr__(name: str) -> Schemas:
    # SERVICE_SCHEMAS is read when asked for: loading the services is for the commands that
    # need them, not for every start of the CLI.
    if name == "SERVICE_SCHEMAS":
        return service_schemas()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@asynccontextmanager
async def _database(url: str) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise OpsError(f"cannot connect to PostgreSQL at {shown_url(url)}: {error}") from None
    try:
        yield conn
    finally:
        await conn.close()


async def migrate(url: str) -> dict[str, list[str]]:
    """Apply pending migrations of every service schema."""
    async with _database(url) as conn:
        return {
            schema: await apply_migrations(conn, schema, packages)
            for schema, packages in service_schemas()
        }


def migration_summary(applied: dict[str, list[str]]) -> str:
    """One line for set-up scripts: how many migrations the schemas hold, how many are new."""
    total = sum(
        len(load_migrations(package)) for _, packages in service_schemas() for package in packages
    )
    new = sum(len(names) for names in applied.values())
    return f"migrated {total} in {len(applied)} schemas ({f'{new} new' if new else 'nothing new'})"


def topics_summary(outcome: dict[str, str]) -> str:
    """One line for set-up scripts: how many topics are ready, how many were created now."""
    created = sum(what == "created" for what in outcome.values())
    ready = sum(what in ("created", "exists") for what in outcome.values())
    odd = len(outcome) - ready
    news = f"{created} created" if created else "nothing new"
    return f"topics: {ready} ready ({news})" + (
        f", {odd} with other partition counts" if odd else ""
    )


async def create_topics(bootstrap: str, partitions: int, replication: int) -> dict[str, str]:
    """Provision the catalog."""
    async with kafka_errors(bootstrap):
        return await kafka.create_topics(
            bootstrap, partitions, replication=replication, client_options=security_options()
        )


async def describe_topics(bootstrap: str) -> list[kafka.TopicState]:
    """The catalog as the broker has it."""
    async with kafka_errors(bootstrap):
        return await kafka.describe_topics(bootstrap, client_options=security_options())

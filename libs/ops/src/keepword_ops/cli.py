"""`keepword`: the ops command line — topics, API keys, schemas, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from keepword_events import schemas
from keepword_platform.logging import configure_logging
from keepword_platform.settings import KeepwordSettings

from . import commands

T = TypeVar("T")

app = typer.Typer(
    help="Operate Keepword: topics, API keys, schemas, database.", no_args_is_help=True
)
topics_app = typer.Typer(help="Kafka topics of the catalog.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for intake's HTTP API.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the event contract.", no_args_is_help=True)
db_app = typer.Typer(help="PostgreSQL schemas of the services.", no_args_is_help=True)


@app.callback()
def _setup() -> None:
    # Logs go to stderr, so that what a command prints on stdout (an API key) stays clean.
    settings = KeepwordSettings()
    configure_logging("ops", settings.log_level, settings.log_format)


app.add_typer(topics_app, name="topics")
app.add_typer(apikey_app, name="apikey")
app.add_typer(schemas_app, name="schemas")
app.add_typer(db_app, name="db")


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except commands.OpsError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@topics_app.command("create")
def topics_create(
    partitions: Annotated[
        int | None, typer.Option(help="Partitions per topic (default: KEEPWORD_TOPIC_PARTITIONS).")
    ] = None,
) -> None:
    """Create every topic of the catalog and its .dlq, all with one partition count."""
    settings = KeepwordSettings()
    count = partitions or settings.topic_partitions
    outcome = _run(
        commands.create_topics(settings.kafka_bootstrap, count, settings.topic_replication)
    )
    for name, what in outcome.items():
        typer.echo(f"{name:40} {what}")
    if any(what.startswith("exists with") for what in outcome.values()):
        typer.secho("warning: partition counts differ; co-partitioning is broken", err=True)
        raise typer.Exit(1)


@topics_app.command("describe")
def topics_describe() -> None:
    """List the catalog's topics with partition counts and retention."""
    settings = KeepwordSettings()
    states = _run(commands.describe_topics(settings.kafka_bootstrap))
    typer.echo(f"{'topic':40} {'partitions':>10} {'retention':>10}")
    for state in states:
        if not state.exists:
            typer.echo(f"{state.name:40} {'missing':>10}")
            continue
        days = f"{state.retention_ms / 86_400_000:g}d" if state.retention_ms else "?"
        typer.echo(f"{state.name:40} {state.partitions:>10} {days:>10}")
    if not all(s.exists for s in states):
        raise typer.Exit(1)


@apikey_app.command("create")
def apikey_create(name: Annotated[str, typer.Argument(help="Who or what the key is for.")]) -> None:
    """Create an API key and print it once; only its hash is stored."""
    text = _run(commands.create_api_key(KeepwordSettings().database_url, name))
    typer.echo(text)
    typer.secho("Store this key now: it cannot be shown again.", err=True)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name or key id.")]) -> None:
    """Revoke an API key; requests with it are refused from then on."""
    count = _run(commands.revoke_api_key(KeepwordSettings().database_url, name))
    if count == 0:
        typer.secho(f"error: no active API key named {name!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys (names and ids, never secrets)."""
    for key in _run(commands.list_api_keys(KeepwordSettings().database_url)):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(f"{key.key_id}  {key.name:30} {key.created_at:%Y-%m-%d %H:%M}  {state}")


@schemas_app.command("export")
def schemas_export(
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = schemas.SCHEMA_DIR,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail if the files are out of date.")
    ] = False,
) -> None:
    """Write the JSON Schema of every event type (one file each)."""
    if check:
        drifted = schemas.drift(out)
        if drifted:
            typer.secho(f"schemas out of date: {', '.join(drifted)}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out}: up to date")
        return
    for path in schemas.export(out):
        typer.echo(str(path))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply every service's pending migrations."""
    applied = _run(commands.migrate(KeepwordSettings().database_url))
    for schema, names in applied.items():
        typer.echo(f"{schema:12} {', '.join(names) if names else 'up to date'}")


def main() -> None:
    """Entry point of the `keepword` command."""
    app()

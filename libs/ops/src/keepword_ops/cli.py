"""`keepword`: the ops command line — topics, API keys, schemas, migrations, threads, dead
letters, consumer lag and groups."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from keepword_events import schemas
from keepword_platform.durations import parse_duration
from keepword_platform.logging import configure_logging
from keepword_platform.settings import KeepwordSettings

from . import commands, dlq, groups, lag, tail, timeline
from .acls_cli import acls_app
from .apikey_cli import apikey_app
from .dead_letters import Selection, source_of
from .errors import OpsError

T = TypeVar("T")

app = typer.Typer(
    help="Operate Keepword: topics, API keys, schemas, database, threads, dead letters, lag.",
    no_args_is_help=True,
)
topics_app = typer.Typer(help="Kafka topics of the catalog.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of the event contract.", no_args_is_help=True)
db_app = typer.Typer(help="PostgreSQL schemas of the services.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: list them, replay them.", no_args_is_help=True)
groups_app = typer.Typer(help="Consumer groups (their lag: keepword lag).", no_args_is_help=True)


@app.callback()
def _setup() -> None:
    # Logs go to stderr, so that what a command prints on stdout (an API key) stays clean.
    settings = KeepwordSettings()
    configure_logging("ops", settings.log_level, settings.log_format)


app.add_typer(topics_app, name="topics")
app.add_typer(apikey_app, name="apikey")
app.add_typer(schemas_app, name="schemas")
app.add_typer(db_app, name="db")
app.add_typer(dlq_app, name="dlq")
app.add_typer(groups_app, name="groups")
app.add_typer(acls_app, name="acls")


# For set-up scripts (make up): one summary line on stdout; the logs still go to stderr.
QUIET = typer.Option("--quiet", "-q", help="Print one summary line instead of a line each.")


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except OpsError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@topics_app.command("create")
def topics_create(
    partitions: Annotated[
        int | None, typer.Option(help="Partitions per topic (default: KEEPWORD_TOPIC_PARTITIONS).")
    ] = None,
    quiet: Annotated[bool, QUIET] = False,
) -> None:
    """Create every topic of the catalog and its .dlq, all with one partition count."""
    settings = KeepwordSettings()
    count = partitions or settings.topic_partitions
    outcome = _run(
        commands.create_topics(settings.kafka_bootstrap, count, settings.topic_replication)
    )
    if quiet:
        typer.echo(commands.topics_summary(outcome))
    else:
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
def db_migrate(quiet: Annotated[bool, QUIET] = False) -> None:
    """Apply every service's pending migrations."""
    applied = _run(commands.migrate(KeepwordSettings().database_url))
    if quiet:
        typer.echo(commands.migration_summary(applied))
        return
    for schema, names in applied.items():
        typer.echo(f"{schema:12} {', '.join(names) if names else 'up to date'}")


@app.command("tail")
def tail_thread(
    thread: Annotated[str, typer.Option("--thread", help="The thread id (the records' key).")],
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Keep printing new events (default).")
    ] = True,
    since: Annotated[
        str | None, typer.Option("--since", help="Only what was written since: 2h, 30m, 7d.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Follow one thread across every topic of the catalog: its history, then live."""
    bootstrap = KeepwordSettings().kafka_bootstrap
    show = timeline.format_json if as_json else timeline.format_line
    try:
        start = None if since is None else datetime.now(UTC) - parse_duration(since)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None

    async def run() -> None:
        async for entries in tail.follow_thread(bootstrap, thread, follow=follow, since=start):
            for entry in entries:
                typer.echo(show(entry))

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a follow ends
        _run(run())


TopicOption = Annotated[
    list[str] | None,
    typer.Option("--topic", help="Source or .dlq topic (repeatable; default: all)."),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Only dead letters whose reason contains this.")
]
EventIdOption = Annotated[
    list[str] | None, typer.Option("--event-id", help="Only this event id (repeatable).")
]


def _selection(
    topic: list[str] | None, reason: str | None, event_id: list[str] | None
) -> Selection:
    return Selection(tuple(topic or ()), reason, tuple(event_id or ()))


@dlq_app.command("list")
def dlq_list(
    topic: TopicOption = None,
    reason: ReasonOption = None,
    event_id: EventIdOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List dead letters per .dlq topic: why, where from, which event, and if replayed."""
    bootstrap = KeepwordSettings().kafka_bootstrap
    found = _run(dlq.list_dead_letters(bootstrap, _selection(topic, reason, event_id)))
    for line in map(dlq.listed_json, found) if as_json else dlq.format_listing(found):
        typer.echo(line)


@dlq_app.command("replay")
def dlq_replay(
    topic: TopicOption = None,
    reason: ReasonOption = None,
    event_id: EventIdOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be replayed; change nothing.")
    ] = False,
) -> None:
    """Write dead letters back onto their source topics, each once (original key and headers)."""
    bootstrap = KeepwordSettings().kafka_bootstrap
    selection = _selection(topic, reason, event_id)
    outcome = _run(dlq.replay(bootstrap, selection, dry_run=dry_run))
    verb = "would replay" if dry_run else "replayed"
    for letter in outcome.replayed:
        typer.echo(
            f"{verb} {letter.topic} {letter.partition}@{letter.offset} -> "
            f"{source_of(letter.topic)}  {letter.event_type or '?'}  "
            f"id {letter.event_id or '-'}  thread {letter.thread_id}"
        )
    typer.echo(
        f"{verb} {len(outcome.replayed)}; already replayed {outcome.already_replayed}; "
        f"not chosen {outcome.not_chosen}"
    )


@app.command("lag")
def lag_command(
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Group name or shell pattern (repeatable; default: all)."),
    ] = None,
    fail_above: Annotated[
        int | None,
        typer.Option("--fail-above", help="Exit with status 3 when a group's total lag is above."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Each consumer group's lag per topic and partition (end offset - committed), with totals."""
    found = _run(lag.consumer_lag(KeepwordSettings().kafka_bootstrap, tuple(group or ())))
    if as_json:
        typer.echo(lag.format_json(found))
    else:
        for line in lag.format_table(found):
            typer.echo(line)
    if fail_above is not None:
        behind = lag.over(found, fail_above)
        if behind:
            worst = ", ".join(f"{name} ({total})" for name, total in behind.items())
            typer.secho(f"lag above {fail_above}: {worst}", err=True)
            raise typer.Exit(3)


@groups_app.command("reset")
def groups_reset(
    group: Annotated[str, typer.Argument(help="The consumer group (its members stopped).")],
    to: Annotated[
        str, typer.Option("--to", help="earliest, latest, or an RFC 3339 time.")
    ] = "earliest",
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Topic (repeatable; default: those it committed on)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the new offsets; change nothing.")
    ] = False,
) -> None:
    """Move a stopped group's committed offsets (services re-read idempotently)."""
    try:
        target = groups.parse_target(to)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--to") from None
    bootstrap = KeepwordSettings().kafka_bootstrap
    moves = _run(groups.reset_group(bootstrap, group, target, tuple(topic or ()), dry_run=dry_run))
    for line in groups.format_moves(group, moves, dry_run=dry_run):
        typer.echo(line)


def main() -> None:
    """Entry point of the `keepword` command."""
    app()

"""`keepword acls apply|show|k8s`: the services' Kafka ACLs, on a broker or as KafkaUsers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from keepword_platform.settings import KeepwordSettings

from . import acls
from .errors import OpsError

T = TypeVar("T")

acls_app = typer.Typer(help="Kafka ACLs of the services' principals.", no_args_is_help=True)


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except OpsError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@acls_app.command("apply")
def acls_apply() -> None:
    """Create every service's ACLs on the broker (as the admin principal, a super user)."""
    count = _run(acls.apply_acls(KeepwordSettings().kafka_bootstrap))
    typer.echo(f"{count} ACLs applied")


@acls_app.command("show")
def acls_show(
    wanted: Annotated[
        bool, typer.Option("--wanted", help="The table's ACLs instead of the broker's.")
    ] = False,
) -> None:
    """The ACLs the broker holds (or, with --wanted, those the table asks for)."""
    bootstrap = KeepwordSettings().kafka_bootstrap
    found = acls.bindings() if wanted else _run(acls.current_acls(bootstrap))
    for b in found:
        typer.echo(f"{b.principal:22} {b.resource_type:8} {b.name:40} {b.operation}")


@acls_app.command("k8s")
def acls_k8s() -> None:
    """Print the services' Strimzi KafkaUsers (deploy/k8s/kafka-users.yaml)."""
    typer.echo(acls.render_kafka_users(), nl=False)

"""`keepword apikey create|revoke|list`: API keys for the services' HTTP APIs."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from keepword_platform.auth.grants import DEFAULT_SCOPES, Scope, parse_scopes, scopes_text
from keepword_platform.company import ConfigError, load_company_config
from keepword_platform.durations import parse_duration
from keepword_platform.settings import KeepwordSettings

from . import api_keys
from .errors import OpsError

T = TypeVar("T")

apikey_app = typer.Typer(help="API keys for the services' HTTP APIs.", no_args_is_help=True)


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except OpsError as error:
        raise _fail(error) from None


def _scopes(text: str | None) -> frozenset[Scope]:
    try:
        return DEFAULT_SCOPES if text is None else parse_scopes(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scope") from None


def _expires_in(text: str | None) -> timedelta | None:
    try:
        return None if text is None else parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--expires-in") from None


def _manager(settings: KeepwordSettings, email: str | None) -> str | None:
    if email is None:
        return None
    try:
        company = load_company_config(settings.config) if settings.config else None
        return api_keys.manager_of(company, email)
    except (ConfigError, OpsError) as error:
        raise _fail(error) from None


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    scope: Annotated[
        str | None,
        typer.Option(
            help="What the key may do, comma-separated: read (the GET APIs), write (intake's "
            "POSTs), decide (escalation's decision API). Default: read,write."
        ),
    ] = None,
    manager: Annotated[
        str | None,
        typer.Option(help="The manager (email) a decide key decides for; needed to decide."),
    ] = None,
    expires_in: Annotated[
        str | None, typer.Option(help="Stop working after this long: 90d, 12h.")
    ] = None,
    expires: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Stop working after this day (UTC)."),
    ] = None,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    settings = KeepwordSettings()
    scopes = _scopes(scope)
    try:
        ends = api_keys.expiry_of(
            datetime.now(UTC), _expires_in(expires_in), expires.date() if expires else None
        )
    except OpsError as error:
        raise _fail(error) from None
    bound = _manager(settings, manager)
    text = _run(
        api_keys.create(settings.database_url, name, scopes, manager=bound, expires_at=ends)
    )
    typer.echo(text)
    details = [f"scopes {scopes_text(scopes)}"]
    if bound:
        details.append(f"decides for {bound}")
    details.append(f"expires {ends:%Y-%m-%d %H:%M} UTC" if ends else "never expires")
    typer.secho(f"{name}: {', '.join(details)}.", err=True)
    typer.secho("Store this key now: it cannot be shown again.", err=True)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name or key id.")]) -> None:
    """Revoke an API key; requests with it are refused from then on."""
    count = _run(api_keys.revoke(KeepwordSettings().database_url, name))
    if count == 0:
        typer.secho(f"error: no active API key named {name!r}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo(f"revoked {name}")


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}" if moment else f"{'-':16}"


@apikey_app.command("list")
def apikey_list() -> None:
    """List API keys, never their secrets: id, name, scopes, manager, created, last use (to the
    minute), expiry (UTC) and state (active, expired, revoked)."""
    keys = _run(api_keys.listing(KeepwordSettings().database_url))
    now = datetime.now(UTC)
    typer.echo(
        f"{'key id':12}  {'name':24} {'scopes':18} {'manager':30} {'created':16}  "
        f"{'last used':16}  {'expires':16}  state"
    )
    for key in keys:
        typer.echo(
            f"{key.key_id:12}  {key.name:24} {scopes_text(key.scopes):18} "
            f"{key.manager or '-':30} {_when(key.created_at)}  {_when(key.last_used_at)}  "
            f"{_when(key.expires_at)}  {key.state(now)}"
        )

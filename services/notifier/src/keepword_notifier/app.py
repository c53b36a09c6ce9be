"""Assembles the notifier: the dispatcher consuming messages, the ledger's changes and
escalations into the send log, the sender, the acknowledgement timers and the outbox relay."""

from __future__ import annotations

from datetime import timedelta

from keepword_platform.consuming import ConsumingService
from keepword_platform.messaging.subscription import background_task
from keepword_platform.service import Runtime

from .dispatcher import INPUTS as DISPATCHER_INPUTS
from .dispatcher import SCHEMA, Dispatcher
from .rendering import compile_templates
from .sender import Sender
from .settings import NotifierSettings
from .smtp import server_from

SERVICE = "notifier"
SMTP_SERVER = "smtp_server"


def _dispatcher(runtime: Runtime, settings: NotifierSettings) -> Dispatcher:
    # The sender's server is made now, so that a bad CA file stops the app from being built.
    runtime.extras[SMTP_SERVER] = server_from(settings)
    compile_templates()  # a template with an error stops the app from being built, too
    return Dispatcher(
        company=lambda: runtime.company,
        settings=settings,
        horizon=timedelta(hours=settings.horizon_hours),
        digest_window=timedelta(seconds=settings.digest_seconds),
    )


async def _send(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotifierSettings)
    sender = Sender(
        lambda: runtime.db,
        runtime.extras[SMTP_SERVER],
        lambda: runtime.company,
        digest_window=timedelta(seconds=settings.digest_seconds),
        lease=timedelta(seconds=settings.lease_seconds),
        connections=settings.smtp_connections,
    )
    await sender.run()


SPEC = ConsumingService(
    name=SERVICE,
    schema=SCHEMA,
    settings=NotifierSettings,
    inputs=DISPATCHER_INPUTS,
    handler=_dispatcher,
    on_timer=Dispatcher.on_timer,
    on_events=Dispatcher.on_events,
    migrations="keepword_notifier",
    extensions=(background_task("notifier-sender", _send),),
    title="Keepword notifier",
    description="Emails the parties involved, exactly once.",
    summary="Who must hear about each event, the email in the house tone, sent exactly once.",
    consumes="Messages, the ledger's changes and escalations: who must hear what.",
)
MIGRATIONS = SPEC.migrations_packages
INPUTS = SPEC.topics

create_app = SPEC.create_app
asyncapi_app = SPEC.asyncapi_app
main = SPEC.main

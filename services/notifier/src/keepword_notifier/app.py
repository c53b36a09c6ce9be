"""Assembles the notifier: the dispatcher consuming messages, the ledger's changes and
escalations into the send log, the sender, the acknowledgement timers and the outbox relay."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker
from keepword_events import topics
from keepword_platform.kafka import make_broker
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.subscription import (
    background_task,
    relay_extension,
    subscribe,
    timers_extension,
)
from keepword_platform.service import Runtime, ServiceSpec, create_service_app, serve
from keepword_platform.settings import NotifierSettings

from .dispatcher import SCHEMA, Dispatcher, wants
from .sender import SOURCE, Sender
from .smtp import server_from

SERVICE = "notifier"
MIGRATIONS = ("keepword_platform.messaging", "keepword_notifier")
INPUTS = (topics.MESSAGES, topics.COMMITMENTS, topics.ESCALATIONS)


def _wire(settings: NotifierSettings) -> tuple[FastAPI, KafkaBroker]:
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    holder: dict[str, Runtime] = {}
    digest_window = timedelta(seconds=settings.digest_seconds)
    dispatcher = Dispatcher(
        company=lambda: holder["runtime"].company,
        settings=settings,
        horizon=timedelta(hours=settings.horizon_hours),
        digest_window=digest_window,
    )
    server = server_from(settings)

    async def send(runtime: Runtime) -> None:
        sender = Sender(
            lambda: runtime.db,
            server,
            lambda: runtime.company,
            digest_window=digest_window,
            lease=timedelta(seconds=settings.lease_seconds),
        )
        await sender.run()

    spec = ServiceSpec(
        name=SERVICE,
        schema=SCHEMA,
        migrations_packages=MIGRATIONS,
        extensions=(
            relay_extension(SCHEMA),
            timers_extension(SCHEMA, SOURCE, dispatcher.on_timer),
            background_task("notifier-sender", send),
        ),
        title="Keepword notifier",
        description="Emails the parties involved, exactly once.",
    )
    app = create_service_app(spec, settings, broker)
    runtime: Runtime = app.state.runtime
    holder["runtime"] = runtime
    subscribe(
        broker,
        EventConsumer(SERVICE, SCHEMA, lambda: runtime.db, dispatcher.on_event, wants=wants),
        INPUTS,
        description="Messages, the ledger's changes and escalations: who must hear what.",
    )
    return app, broker


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    """The notifier service as an ASGI app; connections open when the app starts."""
    return _wire(settings or NotifierSettings())[0]


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(_wire(NotifierSettings())[1])


def main() -> None:
    """Run the service until SIGTERM."""
    settings = NotifierSettings()
    serve(create_app(settings), settings, settings.http_port)

"""Assembles commitments: the ledger consuming requests and messages, its outbox relay, its
timers and its read API."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker
from keepword_events import topics
from keepword_platform.kafka import make_broker
from keepword_platform.messaging.consumer import EventConsumer
from keepword_platform.messaging.subscription import (
    relay_extension,
    subscribe,
    timers_extension,
)
from keepword_platform.problems import install_problem_handlers
from keepword_platform.service import (
    Runtime,
    ServiceSpec,
    create_service_app,
    serve,
)
from keepword_platform.settings import CommitmentsSettings

from .handlers import SCHEMA, SOURCE, Ledger, wants
from .routes import router

SERVICE = "commitments"
MIGRATIONS = ("keepword_platform.messaging", "keepword_commitments")
INPUTS = (topics.COMMITMENT_REQUESTS, topics.MESSAGES)


def _wire(settings: CommitmentsSettings) -> tuple[FastAPI, KafkaBroker]:
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    holder: dict[str, Runtime] = {}
    ledger = Ledger(company=lambda: holder["runtime"].company)
    spec = ServiceSpec(
        name=SERVICE,
        schema=SCHEMA,
        migrations_packages=MIGRATIONS,
        routers=(router,),
        extensions=(relay_extension(SCHEMA), timers_extension(SCHEMA, SOURCE, ledger.on_timer)),
        title="Keepword commitments",
        description="The promise ledger: what was promised versus what production confirmed.",
    )
    app = create_service_app(spec, settings, broker)
    runtime: Runtime = app.state.runtime
    holder["runtime"] = runtime
    subscribe(
        broker,
        EventConsumer(SERVICE, SCHEMA, lambda: runtime.db, ledger.on_event, wants=wants),
        INPUTS,
        description="Promises declared and answered, and staff replies to scan for promises.",
    )
    install_problem_handlers(app)
    return app, broker


def create_app(settings: CommitmentsSettings | None = None) -> FastAPI:
    """The commitments service as an ASGI app; connections open when the app starts."""
    return _wire(settings or CommitmentsSettings())[0]


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(_wire(CommitmentsSettings())[1])


def main() -> None:
    """Run the service until SIGTERM."""
    settings = CommitmentsSettings()
    serve(create_app(settings), settings, settings.http_port)

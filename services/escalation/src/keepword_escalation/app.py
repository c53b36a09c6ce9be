"""Assembles escalation: thread clocks and rules consuming messages and the ledger's changes,
durable deadlines, the outbox relay, and the read API."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker
from keepword_events import topics
from keepword_platform import auth
from keepword_platform.auth.authenticator import ApiKeyAuthenticator
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
from keepword_platform.settings import EscalationSettings

from .pages import router as pages_router
from .routes import router
from .watch import SCHEMA, SOURCE, Watch, wants

SERVICE = "escalation"
MIGRATIONS = ("keepword_platform.messaging", "keepword_escalation")
INPUTS = (topics.MESSAGES, topics.COMMITMENTS)


def _wire(settings: EscalationSettings) -> tuple[FastAPI, KafkaBroker]:
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    holder: dict[str, Runtime] = {}
    watch = Watch(company=lambda: holder["runtime"].company)
    spec = ServiceSpec(
        name=SERVICE,
        schema=SCHEMA,
        migrations_packages=MIGRATIONS,
        shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
        routers=(router, pages_router),
        extensions=(
            relay_extension(SCHEMA),
            timers_extension(SCHEMA, SOURCE, on_timers=watch.on_timers),
        ),
        title="Keepword escalation",
        description="Catches stalled and 'handle it' threads and routes them up the chain.",
    )
    app = create_service_app(spec, settings, broker)
    runtime: Runtime = app.state.runtime
    holder["runtime"] = runtime
    runtime.extras["watch"] = watch
    runtime.extras["authenticator"] = ApiKeyAuthenticator(
        lambda: runtime.db, settings.api_key_cache_seconds
    )
    subscribe(
        broker,
        EventConsumer(SERVICE, SCHEMA, lambda: runtime.db, watch.on_event, wants=wants),
        INPUTS,
        description="Customer messages, staff replies and the ledger's changes.",
    )
    install_problem_handlers(app)
    return app, broker


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    """The escalation service as an ASGI app; connections open when the app starts."""
    return _wire(settings or EscalationSettings())[0]


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(_wire(EscalationSettings())[1])


def main() -> None:
    """Run the service until SIGTERM."""
    settings = EscalationSettings()
    serve(create_app(settings), settings, settings.http_port)

"""Assembles the escalation service: its broker, its routes, its lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from keepword_platform.kafka import make_broker
from keepword_platform.service import ServiceSpec, create_service_app, serve
from keepword_platform.settings import EscalationSettings

SERVICE = "escalation"
SCHEMA = "escalation"
MIGRATIONS = ("keepword_escalation",)

SPEC = ServiceSpec(
    name=SERVICE,
    schema=SCHEMA,
    migrations_packages=MIGRATIONS,
    title="Keepword escalation",
    description="Catches stalled and 'handle it' threads and routes them up the management chain.",
)


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    """The escalation service as an ASGI app; connections open when the app starts."""
    settings = settings or EscalationSettings()
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    return create_service_app(SPEC, settings, broker)


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(make_broker(EscalationSettings(), client_id=f"keepword-{SERVICE}"))


def main() -> None:
    """Run the service until SIGTERM."""
    settings = EscalationSettings()
    serve(create_app(settings), settings, settings.http_port)

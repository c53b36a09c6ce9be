"""Assembles the intake service: its broker, its routes, its lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from keepword_platform.kafka import make_broker
from keepword_platform.service import ServiceSpec, create_service_app, serve
from keepword_platform.settings import IntakeSettings

SERVICE = "intake"

SPEC = ServiceSpec(
    name=SERVICE,
    schema="intake",
    migrations_package="keepword_intake",
    title="Keepword intake",
    description="The front door: HTTP API and inbound email, publishing customer-message events.",
)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """The intake service as an ASGI app; connections open when the app starts."""
    settings = settings or IntakeSettings()
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    return create_service_app(SPEC, settings, broker)


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(make_broker(IntakeSettings(), client_id=f"keepword-{SERVICE}"))


def main() -> None:
    """Run the service until SIGTERM."""
    settings = IntakeSettings()
    serve(create_app(settings), settings, settings.http_port)

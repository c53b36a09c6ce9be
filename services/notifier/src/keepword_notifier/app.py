"""Assembles the notifier service: its broker, its routes, its lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from keepword_platform.kafka import make_broker
from keepword_platform.service import ServiceSpec, create_service_app, serve
from keepword_platform.settings import NotifierSettings

SERVICE = "notifier"
SCHEMA = "notifier"
MIGRATIONS = ("keepword_platform.messaging", "keepword_notifier")

SPEC = ServiceSpec(
    name=SERVICE,
    schema=SCHEMA,
    migrations_packages=MIGRATIONS,
    title="Keepword notifier",
    description="Emails the parties involved, exactly once.",
)


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    """The notifier service as an ASGI app; connections open when the app starts."""
    settings = settings or NotifierSettings()
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    return create_service_app(SPEC, settings, broker)


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(make_broker(NotifierSettings(), client_id=f"keepword-{SERVICE}"))


def main() -> None:
    """Run the service until SIGTERM."""
    settings = NotifierSettings()
    serve(create_app(settings), settings, settings.http_port)

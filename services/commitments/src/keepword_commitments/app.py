"""Assembles the commitments service: its broker, its routes, its lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from keepword_platform.kafka import make_broker
from keepword_platform.service import ServiceSpec, create_service_app, serve
from keepword_platform.settings import CommitmentsSettings

SERVICE = "commitments"
SCHEMA = "commitments"
MIGRATIONS = ("keepword_commitments",)

SPEC = ServiceSpec(
    name=SERVICE,
    schema=SCHEMA,
    migrations_packages=MIGRATIONS,
    title="Keepword commitments",
    description="The promise ledger: what was promised versus what production confirmed.",
)


def create_app(settings: CommitmentsSettings | None = None) -> FastAPI:
    """The commitments service as an ASGI app; connections open when the app starts."""
    settings = settings or CommitmentsSettings()
    broker = make_broker(settings, client_id=f"keepword-{SERVICE}")
    return create_service_app(SPEC, settings, broker)


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(make_broker(CommitmentsSettings(), client_id=f"keepword-{SERVICE}"))


def main() -> None:
    """Run the service until SIGTERM."""
    settings = CommitmentsSettings()
    serve(create_app(settings), settings, settings.http_port)

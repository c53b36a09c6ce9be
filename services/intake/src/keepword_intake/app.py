"""Assembles intake: the HTTP API and the inbound SMTP listener, publishing to Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from faststream import FastStream
from faststream.kafka import KafkaBroker
from keepword_platform import auth
from keepword_platform.auth.dependencies import authenticator_of
from keepword_platform.kafka import make_broker
from keepword_platform.kafka_security import kafka_client_options
from keepword_platform.problems import install_problem_handlers
from keepword_platform.producer import FailFastProducer
from keepword_platform.registry import ServiceEntry
from keepword_platform.service import (
    Extension,
    Runtime,
    ServiceSpec,
    create_service_app,
    serve,
)
from prometheus_client import CollectorRegistry, make_asgi_app, multiprocess
from starlette.routing import Mount

from . import fast_path, repository
from .fast_path import MessageFastPath
from .guards import RequestGuard
from .http_metrics import RequestMetrics
from .mailbox import mailbox_connector
from .publishing import EventPublisher
from .routes import Intake, router
from .sender_trust import trust_of
from .settings import IntakeSettings
from .smtp_auth import SmtpAuth
from .smtp_listener import InboundMailHandler, SmtpLimits, smtp_listener
from .workers import METRICS_DIR, listening_socket

SERVICE = "intake"
SCHEMA = "intake"
MIGRATIONS = ("keepword_intake",)
log = structlog.get_logger(__name__)


def _broker(settings: IntakeSettings) -> KafkaBroker:
    # Intake publishes through its FailFastProducer; the FastStream broker serves the health
    # check and the AsyncAPI document.
    return make_broker(settings, client_id=f"keepword-{SERVICE}")


@contextlib.asynccontextmanager
async def _purge_idempotency_keys(runtime: Runtime) -> AsyncIterator[None]:
    settings = runtime.settings
    assert isinstance(settings, IntakeSettings)
    retention = timedelta(hours=settings.idempotency_retention_hours)

    async def loop() -> None:
        while True:
            try:
                purged = await repository.purge_idempotency_keys(runtime.db, retention)
                if purged:
                    log.info("idempotency keys purged", count=purged)
            except Exception:  # a failed purge is retried next hour; it must not stop intake
                log.exception("idempotency purge failed")
            await asyncio.sleep(3600)

    task = asyncio.create_task(loop(), name="purge-idempotency-keys")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _producer_lifetime(producer: FailFastProducer) -> Extension:
    async def producer_check() -> str:
        # Shielded: a health check that gives up must not cancel a producer half-way through
        # connecting (it would be left behind, not discarded); reachable() has its own deadline.
        reachable = await asyncio.shield(producer.reachable())
        return "ok" if reachable else "cannot reach the broker"

    @contextlib.asynccontextmanager
    async def lifetime(runtime: Runtime) -> AsyncIterator[None]:
        await producer.start()
        runtime.readiness["producer"] = producer_check
        try:
            yield
        finally:
            await producer.stop()

    return lifetime


def _inbound_mail(publisher: EventPublisher) -> Extension:
    @contextlib.asynccontextmanager
    async def lifetime(runtime: Runtime) -> AsyncIterator[None]:
        settings = runtime.settings
        assert isinstance(settings, IntakeSettings)
        auth = SmtpAuth.of(settings)
        handler = InboundMailHandler(
            company=lambda: runtime.company,
            pool=lambda: runtime.db,
            publisher=publisher,
            trust=lambda: trust_of(
                runtime.company.company.inbound_addresses,
                trusted_mtas=settings.trusted_mtas,
                dkim_keys=settings.dkim_keys,
                dkim_dns=settings.dkim_dns,
            ),
            auth=auth,
        )
        async with smtp_listener(
            handler,
            host=settings.http_host,
            port=settings.smtp_listen_port,
            limits=SmtpLimits.of(settings),
            auth=auth,
        ):
            yield

    return lifetime


def _spec(producer: FailFastProducer, publisher: EventPublisher, *, primary: bool) -> ServiceSpec:
    # What must run once per service, not once per worker, runs in the primary worker only.
    once: tuple[Extension, ...] = (
        (_purge_idempotency_keys, _inbound_mail(publisher), mailbox_connector(publisher))
        if primary
        else ()
    )
    return ServiceSpec(
        name=SERVICE,
        schema=SCHEMA,
        migrations_packages=MIGRATIONS,
        title="Keepword intake",
        description=(
            "The front door: customer messages, staff replies, promises and production's "
            "answers, published to Kafka and acknowledged only once the broker has them."
        ),
        shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
        extensions=(_producer_lifetime(producer), *once),
    )


def create_app(settings: IntakeSettings | None = None, *, primary: bool = True) -> FastAPI:
    """The intake service as an ASGI app; connections open when the app starts.

    `primary`: also run the SMTP listener, the mailbox connector and the idempotency-key purge
    (false in every worker but the first, when several share the HTTP port).
    """
    settings = settings or IntakeSettings()
    broker = _broker(settings)
    producer = FailFastProducer(
        settings.kafka_bootstrap,
        client_id=f"keepword-{SERVICE}",
        timeout_seconds=settings.publish_timeout_ms / 1000,
        **kafka_client_options(settings),
    )
    publisher = EventPublisher(producer, max_event_bytes=settings.max_event_bytes)
    app = create_service_app(_spec(producer, publisher, primary=primary), settings, broker)
    if os.environ.get(METRICS_DIR):
        _serve_metrics_of_all_workers(app)
    runtime: Runtime = app.state.runtime
    app.state.intake = Intake(
        publisher=publisher,
        pool=lambda: runtime.db,
        idempotency_abandon_after=timedelta(seconds=max(30, settings.publish_timeout_ms / 200)),
    )
    install_problem_handlers(app)
    app.include_router(router)
    app.add_middleware(  # innermost: after the guard's checks, inside the metrics
        MessageFastPath,
        intake=lambda: app.state.intake,
        authenticator=lambda: authenticator_of(runtime),
        route=_route(app, "POST", fast_path.PATH),
    )
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        max_batch_body_bytes=settings.max_batch_body_bytes,
    )
    app.add_middleware(RequestMetrics)
    return app


def asyncapi_app() -> FastStream:
    """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
    return FastStream(_broker(IntakeSettings()))


def _route(app: FastAPI, method: str, path: str) -> APIRoute:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"{method} {path} is not a route of the app")


def _serve_metrics_of_all_workers(app: FastAPI) -> None:
    # prometheus_client's multiprocess mode: /metrics sums the samples every worker wrote.
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    for route in app.router.routes:
        if isinstance(route, Mount) and route.path == "/metrics":
            route.app = make_asgi_app(registry)


def serve_one(settings: IntakeSettings) -> None:
    """Run intake as one process until SIGTERM."""
    serve(create_app(settings), settings, settings.http_port)


def serve_worker(settings: IntakeSettings, index: int) -> None:
    """Run worker `index`, listening beside the others, until SIGTERM (see `workers`)."""
    sock = listening_socket(settings.http_host, settings.http_port)
    serve(create_app(settings, primary=index == 0), settings, settings.http_port, sockets=[sock])


def main() -> None:
    """Run the service until SIGTERM: one process, or KEEPWORD_INTAKE_WORKERS of them."""
    from .workers import main as run

    run()


ENTRY = ServiceEntry(
    name=SERVICE,
    schema=SCHEMA,
    migrations_packages=MIGRATIONS,
    shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
    summary="The front door: customer messages, staff replies, promises and production's "
    "answers, accepted over HTTP and SMTP and published to Kafka.",
    asyncapi=asyncapi_app,
)
"""What intake registers for the ops CLI (its entry point in `keepword.services`)."""

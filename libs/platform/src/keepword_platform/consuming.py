"""The one way to assemble a service that consumes events.

Every consuming service has the same parts: a broker whose one consumer group reads the topics
of the service's inputs, an `EventConsumer` handing each event to its step (exactly once, in
the service's database transaction), the outbox relay, durable timers, and the service's HTTP
routes. `ConsumingService` wires them in that order from what is particular to the service:
its name and schema, its settings class, its table of inputs, the object that handles them
(built once the runtime exists, since it reads the company configuration loaded at start-up),
its timer step, its routes and any extension of its own. The service's `app.py` is that spec.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import APIRouter, FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker
from keepword_events import Envelope, Event

from .database import Connection
from .kafka import make_broker
from .messaging.consumer import BatchHandler, Caused, EventConsumer
from .messaging.inputs import Inputs
from .messaging.subscription import relay_extension, subscribe, timers_extension
from .messaging.timers import Timer
from .problems import install_problem_handlers
from .registry import SharedSchemas
from .service import Extension, Runtime, ServiceSpec, create_service_app, serve
from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")

# The inbox, outbox and timers tables every consuming service has in its schema.
MESSAGING_MIGRATIONS = "keepword_platform.messaging"


@dataclass(frozen=True)
class ConsumingService(Generic[S, T]):
    """How to assemble a consuming service; also what it registers for the ops CLI."""

    name: str
    schema: str
    settings: type[S]
    inputs: Inputs[T]
    # Builds the object whose steps handle the inputs (and the timers); it may also share
    # what the routes need through `runtime.extras`.
    handler: Callable[[Runtime, S], T]
    migrations: str  # the service's own migrations package
    title: str
    description: str  # of the HTTP API
    summary: str  # what the service does (AsyncAPI)
    consumes: str  # what the subscription reads, in words (AsyncAPI)
    on_timer: Callable[[T, Connection, Timer], Awaitable[Caused]] | None = None
    on_timers: Callable[[T, Connection, Sequence[Timer]], Awaitable[Caused]] | None = None
    # Kinds of timers the step may be handed ahead of their time (it takes their `fire_at` as
    # its time): a burst of them is fired ahead and committed when due (`timers.prepare_due`).
    timers_ahead: frozenset[str] = frozenset()
    # A step for a whole batch of wanted events (in the order of their records), used for the
    # batch's first attempt; the inputs' steps still handle events one by one when a batch
    # fails and is redone event by event (see `EventConsumer`).
    on_events: Callable[[T, Connection, Sequence[Envelope[Event]]], Awaitable[Caused]] | None = None
    routers: Sequence[APIRouter] = ()
    extensions: Sequence[Extension] = ()  # started after the relay and the timers
    shared_schemas: SharedSchemas = ()

    @property
    def source(self) -> str:
        """CloudEvents source of what the service publishes."""
        return f"/keepword/{self.name}"

    @property
    def migrations_packages(self) -> tuple[str, ...]:
        """The packages whose migrations build the service's schema, in order."""
        return (MESSAGING_MIGRATIONS, self.migrations)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics the service reads: those of its inputs."""
        return self.inputs.topics

    def wire(self, settings: S) -> tuple[FastAPI, KafkaBroker]:
        """The service's app and its broker, subscribed; nothing connects yet."""
        broker = make_broker(settings, client_id=f"keepword-{self.name}")
        runtime = Runtime(name=self.name, settings=settings, broker=broker)
        target = self.handler(runtime, settings)
        spec = ServiceSpec(
            name=self.name,
            schema=self.schema,
            migrations_packages=self.migrations_packages,
            shared_schemas=self.shared_schemas,
            routers=self.routers,
            extensions=(relay_extension(self.schema), *self._timers(target), *self.extensions),
            title=self.title,
            description=self.description,
        )
        app = create_service_app(spec, settings, broker, runtime)
        # Several members of the group in one process (KEEPWORD_CONSUMERS_PER_PROCESS): while one
        # waits on the database, another decodes and folds its batch (one member alone leaves the
        # core and the database taking turns). Each has its own EventConsumer, so its own record
        # of the input in hand.
        for member in range(settings.consumers_per_process):
            subscribe(
                broker,
                EventConsumer(
                    self.name,
                    self.schema,
                    lambda: runtime.db,
                    self.inputs.handler(target),
                    wants=self.inputs.wants,
                    batch_handler=self._batch_step(target),
                ),
                self.topics,
                max_records=settings.consumer_batch_records,
                description=self.consumes,
                documented=member == 0,
            )
        if self.routers:  # problem+json answers for the service's own API
            install_problem_handlers(app)
        return app, broker

    def _batch_step(self, target: T) -> BatchHandler | None:
        on_events = self.on_events
        if on_events is None:
            return None

        async def batch(conn: Connection, envelopes: Sequence[Envelope[Event]]) -> Caused:
            return await on_events(target, conn, envelopes)

        return batch

    def _timers(self, target: T) -> tuple[Extension, ...]:
        """The timers' extension, with `target`'s step for them (none without a step)."""
        on_timer, on_timers = self.on_timer, self.on_timers
        if on_timer is not None and on_timers is not None:
            raise ValueError(f"{self.name}: give at most one of on_timer and on_timers")
        if on_timers is not None:

            async def batch(conn: Connection, due: Sequence[Timer]) -> Caused:
                return await on_timers(target, conn, due)

            return (
                timers_extension(
                    self.schema, self.source, on_timers=batch, ahead=self.timers_ahead
                ),
            )
        if on_timer is not None:

            async def one(conn: Connection, timer: Timer) -> Caused:
                return await on_timer(target, conn, timer)

            return (timers_extension(self.schema, self.source, one),)
        return ()

    def create_app(self, settings: S | None = None) -> FastAPI:
        """The service as an ASGI app; connections open when the app starts."""
        return self.wire(settings or self.settings())[0]

    def asyncapi_app(self) -> FastStream:
        """The service's FastStream app, for AsyncAPI: `faststream docs gen --factory`."""
        return FastStream(self.wire(self.settings())[1])

    def main(self) -> None:
        """Run the service until SIGTERM."""
        settings = self.settings()
        serve(self.create_app(settings), settings, settings.http_port)

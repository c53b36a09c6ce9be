"""What a consuming service reads, as one table: event type -> the step that handles it.

The table is the one place a service names its inputs. The topics it subscribes to come from
the event types' `topic`, the consumer's `wants` from the table's keys, and handling an event
is a look-up instead of an `isinstance` chain.

Steps are functions of the object that handles the service's events (its ledger, watch or
dispatcher), so the table is known at import time, before that object is built:

    INPUTS: Inputs[Ledger] = Inputs(
        on(CommitmentDeclared, Ledger.declared),
        on(ReplySent, Ledger.replied),
    )
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from keepword_events import Envelope, Event

from keepword_platform.database import Connection

from .consumer import Caused, Handler

T = TypeVar("T")
E = TypeVar("E", bound=Event)

Step = Callable[[T, Connection, Envelope[Any]], Awaitable[Caused]]


@dataclass(frozen=True)
class Route(Generic[T]):
    """One row of the table: events of `event` go to `step`."""

    event: type[Event]
    step: Step[T]


def on(event: type[E], step: Callable[[T, Connection, Envelope[E]], Awaitable[Caused]]) -> Route[T]:
    """A row of the table; the step's envelope is typed by the event it handles."""
    return Route(event, step)


class Inputs(Generic[T]):
    """The events a service acts on and the step for each; every other event is ignored."""

    def __init__(self, *routes: Route[T]) -> None:
        steps: dict[type[Event], Step[T]] = {}
        for route in routes:
            if route.event in steps:
                raise ValueError(f"{route.event.__name__} has two steps")
            steps[route.event] = route.step
        self._steps = steps

    @property
    def steps(self) -> Mapping[type[Event], Step[T]]:
        """The table, in the order it was written."""
        return dict(self._steps)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics of the table's events, in the order they first appear, once each."""
        return tuple(dict.fromkeys(event.topic for event in self._steps))

    def step_for(self, event: Event) -> Step[T] | None:
        """The step for `event` (or for the nearest of its base classes in the table), if any."""
        for kind in type(event).__mro__:
            step = self._steps.get(kind)
            if step is not None:
                return step
        return None

    def wants(self, envelope: Envelope[Event]) -> bool:
        """Whether the service acts on `envelope` (what it does not want gets no inbox row)."""
        return self.step_for(envelope.data) is not None

    async def handle(self, target: T, conn: Connection, envelope: Envelope[Event]) -> Caused:
        """`target`'s step for the envelope's event; nothing for an event not in the table."""
        step = self.step_for(envelope.data)
        return [] if step is None else await step(target, conn, envelope)

    def handler(self, target: T) -> Handler:
        """The consumer's handler: each event to `target`'s step for it."""

        async def handle(conn: Connection, envelope: Envelope[Event]) -> Caused:
            return await self.handle(target, conn, envelope)

        return handle

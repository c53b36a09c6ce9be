"""Events into facts, a batch at a time: load the facts the batch touches, fold its events in
with the pure steps of `facts` (`changes`), write back what changed.

Insights causes no events. It reads every topic of the catalog; what it has no step for
(commitment requests other than production's answers, warnings, vague-time notices, feedback
requests) is not kept, and the consumer writes no inbox row for it. When a batch fails and is
redone event by event, each event is the same step over a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keepword_events import Envelope
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Caused
from keepword_platform.messaging.inputs import Inputs, on

from . import repository
from .changes import RECORDED, applied, needed

NOTHING: Caused = ()


class Recorder:
    """Writes the facts of the events it is handed."""

    async def on_events(self, conn: Connection, envelopes: Sequence[Envelope[Any]]) -> Caused:
        """A batch of events, in the order of their records."""
        before = await repository.known(conn, needed(envelopes))
        await repository.save(conn, applied(before, envelopes))
        return NOTHING

    async def on_event(self, conn: Connection, envelope: Envelope[Any]) -> Caused:
        """One event: a batch of one."""
        return await self.on_events(conn, [envelope])


INPUTS: Inputs[Recorder] = Inputs(*(on(kind, Recorder.on_event) for kind in RECORDED))

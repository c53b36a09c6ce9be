"""Each input event into facts: load the fact it changes, apply the pure step of `facts`, save.

Insights causes no events. It reads every topic of the catalog; what it has no step for
(commitment requests other than production's answers, warnings, vague-time notices) is not
kept, and the consumer writes no inbox row for it.
"""

from __future__ import annotations

from typing import Any

from keepword_events import (
    CommitmentAnswered,
    CommitmentStatusChanged,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    ReplySent,
)
from keepword_platform.database import Connection
from keepword_platform.messaging.consumer import Caused
from keepword_platform.messaging.inputs import Inputs, on

from . import facts, repository

NOTHING: Caused = ()


class Recorder:
    """Writes the facts of each event it is handed."""

    async def customer_wrote(self, conn: Connection, e: Envelope[MessageReceived]) -> Caused:
        """A customer message: it begins a wait or adds to the open one."""
        thread = await repository.load_thread(conn, e.data.thread_id)
        await repository.save_thread(conn, facts.customer_wrote(thread, e.data))
        return NOTHING

    async def replied(self, conn: Connection, e: Envelope[ReplySent]) -> Caused:
        """A staff reply: when it reached the customer, it ends the open wait."""
        if not facts.counts_as_reply(e.data):
            return NOTHING
        thread = await repository.load_thread(conn, e.data.thread_id)
        await repository.save_thread(conn, *facts.person_replied(thread, e.data))
        return NOTHING

    async def promise_moved(self, conn: Connection, e: Envelope[CommitmentStatusChanged]) -> Caused:
        """The ledger moved a promise."""
        before = await repository.load_promise(conn, e.data.commitment_id)
        await repository.save_promise(conn, *facts.promise_moved(before, e.data, e.id))
        return NOTHING

    async def answered(self, conn: Connection, e: Envelope[CommitmentAnswered]) -> Caused:
        """Production answered a promise."""
        await repository.save_answer(conn, facts.production_answered(e.data, e.id, e.time))
        return NOTHING

    async def opened(self, conn: Connection, e: Envelope[EscalationOpened]) -> Caused:
        """An escalation opened."""
        before = await repository.load_escalation(conn, e.data.escalation_id)
        await repository.save_escalation(conn, facts.escalation_opened(before, e.data, e.time))
        return NOTHING

    async def raised(self, conn: Connection, e: Envelope[EscalationRaised]) -> Caused:
        """An escalation went up the chain (or reminded its top)."""
        before = await repository.load_escalation(conn, e.data.escalation_id)
        await repository.save_escalation(
            conn, *facts.escalation_raised(before, e.data, e.id, e.time)
        )
        return NOTHING

    async def decided(self, conn: Connection, e: Envelope[EscalationDecided]) -> Caused:
        """A manager decided (or said "handle it")."""
        before = await repository.load_escalation(conn, e.data.escalation_id)
        await repository.save_escalation(
            conn, *facts.escalation_decided(before, e.data, e.id, e.time)
        )
        return NOTHING

    async def resolved(self, conn: Connection, e: Envelope[EscalationResolved]) -> Caused:
        """An escalation was closed."""
        before = await repository.load_escalation(conn, e.data.escalation_id)
        await repository.save_escalation(conn, facts.escalation_resolved(before, e.data, e.time))
        return NOTHING

    async def notified(self, conn: Connection, e: Envelope[Any]) -> Caused:
        """An email was sent, or failed."""
        await repository.save_notification(conn, facts.notified(e.data, e.id, e.time))
        return NOTHING


INPUTS: Inputs[Recorder] = Inputs(
    on(MessageReceived, Recorder.customer_wrote),
    on(ReplySent, Recorder.replied),
    on(CommitmentAnswered, Recorder.answered),
    on(CommitmentStatusChanged, Recorder.promise_moved),
    on(EscalationOpened, Recorder.opened),
    on(EscalationRaised, Recorder.raised),
    on(EscalationDecided, Recorder.decided),
    on(EscalationResolved, Recorder.resolved),
    on(NotificationSent, Recorder.notified),
    on(NotificationFailed, Recorder.notified),
)

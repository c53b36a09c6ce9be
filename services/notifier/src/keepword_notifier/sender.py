"""The sending loop: folds held escalation emails into digests, claims due emails from the send
log, hands them to SMTP, records the outcome and announces it (NotificationSent /
NotificationFailed) through the outbox.

An email's row stays locked while it is being sent and is marked sent in the same transaction
that announces it. If the process dies after the server accepted the email but before that
commit, the email is sent again after a restart — with the same Message-ID, so it is the same
message to the recipient's mail system. That instant is the only window for a duplicate.
Digests keep that promise because a digest is decided (its members, its Message-ID) and
committed before it is sent: a restart sends the same digest, never a different one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from keepword_events import NotificationFailed, NotificationSent, Role
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.faults import crash_point
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import outgoing

from . import sendlog
from .backoff import retry_delay
from .compose import UnsafeEmail, compose, to_wire
from .digest import DIGEST_TEMPLATE, Fold, Hold, SendAlone, decide, digest_ids, digest_notice
from .metrics import DIGESTED, DIGESTS, FAILED, QUEUE_AGE, RETRIES, SENT, SMTP_SECONDS
from .privacy import recipient_ref
from .rendering import render
from .sendlog import Send
from .smtp import Delivery, SmtpConnections, SmtpServer

# Never an address or a body in a log line: `rcpt` is a reference (see privacy.recipient_ref).
log = structlog.get_logger(__name__)

SCHEMA = "notifier"
SOURCE = "/keepword/notifier"


@dataclass
class Sender:
    """Sends what is due, a few at a time, until cancelled."""

    pool: Callable[[], asyncpg.Pool]
    server: SmtpServer
    company: Callable[[], CompanyConfig]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    batch_size: int = 50  # emails claimed (and recorded) per transaction
    connections: int = 10  # SMTP conversations at once, over connections kept open
    max_attempts: int = 8
    poll_seconds: float = 0.5
    digest_window: timedelta = timedelta(0)  # 0: escalation emails are never held
    _smtp: SmtpConnections = field(init=False)
    _parallel: asyncio.Semaphore = field(init=False)
    _queue_age_at: float = field(init=False, default=float("-inf"))

    def __post_init__(self) -> None:
        self._smtp = SmtpConnections(self.server, keep=self.connections)
        self._parallel = asyncio.Semaphore(self.connections)

    async def run(self) -> None:
        """Send until cancelled; survives database and SMTP outages."""
        try:
            while True:
                try:
                    sent = await self.send_due()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database is away: try again shortly
                    log.warning("sending interrupted; will retry", exc_info=True)
                    sent = 0
                    await asyncio.sleep(self.poll_seconds * 4)
                if sent == 0:
                    await asyncio.sleep(self.poll_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the SMTP connections kept open."""
        await self._smtp.close()

    async def send_due(self) -> int:
        """One round: decide on held emails, then claim, send, record. Returns how many emails
        were attempted."""
        if self.digest_window > timedelta(0):
            await self.plan_digests()
        async with self.pool().acquire() as conn, conn.transaction():
            now = self.clock()
            if time.monotonic() - self._queue_age_at >= 1.0:  # a gauge: once a second will do
                QUEUE_AGE.set(await sendlog.oldest_waiting_age_seconds(conn, now))
                self._queue_age_at = time.monotonic()
            due = await sendlog.claim_due(conn, now, self.batch_size)
            if not due:
                return 0
            outcomes = await asyncio.gather(*(self._deliver(s, now) for s in due))
            crash_point("notifier:after_accept")
            # When the server said yes (not when the round began): digests count from it.
            accepted_at = self.clock()
            results = list(zip(due, outcomes, strict=True))
            accepted = [(s.idempotency_key, s.attempts + 1) for s, d in results if d.accepted]
            await sendlog.mark_sent_many(conn, accepted, accepted_at)
            events: list[NotificationSent | NotificationFailed] = []
            for send, delivery in results:
                events += await self._record(conn, send, delivery, now)
            await store.enqueue(conn, SCHEMA, [outgoing(event, SOURCE) for event in events])
            return len(due)

    async def plan_digests(self) -> int:
        """Release or fold the held emails whose turn has come (committed before anything is
        sent). Returns how many groups were decided."""
        async with self.pool().acquire() as conn, conn.transaction():
            now = self.clock()
            groups = await sendlog.take_due_groups(conn, now, limit=500)
            holds: dict[str, datetime] = {}
            alone: list[str] = []
            for state in groups:
                decision = decide(
                    held=len(state.held_keys),
                    last_sent_at=state.last_sent_at,
                    in_flight=state.in_flight,
                    now=now,
                    window=self.digest_window,
                )
                if isinstance(decision, Hold):
                    holds[state.group] = decision.until
                elif isinstance(decision, SendAlone):
                    alone.append(state.held_keys[0])
                elif isinstance(decision, Fold):
                    await self._fold(conn, state, now)
            await sendlog.hold(conn, holds)
            await sendlog.release(conn, alone, now)
        return len(groups)

    async def _fold(self, conn: Connection, state: sendlog.GroupState, now: datetime) -> None:
        members = await sendlog.held(conn, state.held_keys)
        digest = self._digest(state.group, members)
        await sendlog.fold(conn, digest, [m.idempotency_key for m in members], now)
        DIGESTS.inc()
        DIGESTED.inc(len(members))
        log.info(
            "digest made",
            notification_id=digest.notification_id,
            rcpt=recipient_ref(digest.recipient),
            emails=len(members),
        )

    def _digest(self, group: str, members: list[Send]) -> Send:
        company = self.company()
        email = render(digest_notice(members, company, self.digest_window), company)
        domain = company.company.support_address.rsplit("@", 1)[-1]
        ids = digest_ids(group, [m.idempotency_key for m in members], domain)
        return Send(
            idempotency_key=ids.idempotency_key,
            notification_id=ids.notification_id,
            source_event_id=ids.notification_id,  # a digest is its own source
            thread_id=None,
            template=DIGEST_TEMPLATE,
            recipient=members[0].recipient,
            recipient_role=Role.MANAGEMENT.value,
            message_id=ids.message_id,
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            digest_group=group,
        )

    async def _deliver(self, send: Send, now: datetime) -> Delivery:
        company = self.company().company
        try:
            message = compose(
                send, sender_name=company.name, sender_address=company.support_address, at=now
            )
            data = to_wire(message)
        except (UnsafeEmail, ValueError) as unsafe:
            # Never on the wire: no retry can make this email safe.
            return Delivery(False, permanent=True, error=f"not sent: {unsafe}"[:500])
        async with self._parallel:
            started = time.perf_counter()
            try:
                return await self._smtp.deliver(
                    data, sender=company.support_address, recipient=send.recipient
                )
            finally:
                SMTP_SECONDS.observe(time.perf_counter() - started)

    async def _record(
        self, conn: Connection, send: Send, delivery: Delivery, now: datetime
    ) -> list[NotificationSent | NotificationFailed]:
        """Record a failure or a retry (acceptances are marked all at once by the caller);
        returns the events announcing the outcome."""
        attempts = send.attempts + 1
        about = {
            "notification_id": send.notification_id,
            "template": send.template,
            "rcpt": recipient_ref(send.recipient),
            "attempts": attempts,
            "thread_id": send.thread_id,
        }
        # A digest's outcome is announced for each email it carried: each has its own source
        # event and thread, and all name the digest's Message-ID.
        announced = (
            await sendlog.digest_members(conn, send.idempotency_key)
            if send.template == DIGEST_TEMPLATE
            else [send]
        )
        if delivery.accepted:
            events: list[NotificationSent | NotificationFailed] = [
                NotificationSent(
                    **_facts(s, attempts), email_message_id=send.message_id, subject=send.subject
                )
                for s in announced
            ]
            SENT.inc()
            log.info("email sent", **about)
        elif delivery.permanent or attempts >= self.max_attempts:
            error = delivery.error or "refused"
            await sendlog.mark_failed(conn, send.idempotency_key, attempts, error, self.clock())
            events = [
                NotificationFailed(
                    **_facts(s, attempts),
                    error=error,
                    smtp_code=delivery.code,
                    permanent=delivery.permanent,
                )
                for s in announced
            ]
            FAILED.inc()
            log.warning("email failed", code=delivery.code, permanent=delivery.permanent, **about)
        else:
            RETRIES.inc()
            at = now + retry_delay(attempts)
            await sendlog.retry_later(
                conn, send.idempotency_key, attempts, delivery.error or "deferred", at
            )
            log.info("email deferred", code=delivery.code, retry_at=at.isoformat(), **about)
            return []
        return events


def _facts(send: Send, attempts: int) -> dict[str, Any]:
    thread_id = send.thread_id or ""
    return {
        "thread_id": thread_id,
        "correlation_id": thread_id,
        "causation_id": send.source_event_id,
        "notification_id": send.notification_id,
        "idempotency_key": send.idempotency_key,
        "source_event_id": send.source_event_id,
        "template": send.template,
        "recipient_role": Role(send.recipient_role),
        "recipient": send.recipient,
        "attempts": attempts,
    }

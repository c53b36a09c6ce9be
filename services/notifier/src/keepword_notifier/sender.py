"""The sending loop: claims due emails from the send log, hands them to SMTP, records the
outcome and announces it (NotificationSent / NotificationFailed) through the outbox.

An email's row stays locked while it is being sent and is marked sent in the same transaction
that announces it. If the process dies after the server accepted the email but before that
commit, the email is sent again after a restart — with the same Message-ID, so it is the same
message to the recipient's mail system. That instant is the only window for a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog
from keepword_events import NotificationFailed, NotificationSent, Role
from keepword_platform.company import CompanyConfig
from keepword_platform.database import Connection
from keepword_platform.faults import crash_point
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import outgoing
from prometheus_client import Counter, Gauge

from . import sendlog
from .backoff import retry_delay
from .compose import compose
from .sendlog import Send
from .smtp import Delivery, SmtpServer, deliver

log = structlog.get_logger(__name__)

SCHEMA = "notifier"
SOURCE = "/keepword/notifier"
SENT = Counter("keepword_notifier_sent_total", "Emails the SMTP server accepted.")
FAILED = Counter("keepword_notifier_failed_total", "Emails refused for good.")
RETRIES = Counter("keepword_notifier_retries_total", "Temporary refusals, retried later.")
QUEUE_AGE = Gauge("keepword_notifier_queue_age_seconds", "Age of the oldest email not sent.")


@dataclass
class Sender:
    """Sends what is due, a few at a time, until cancelled."""

    pool: Callable[[], asyncpg.Pool]
    server: SmtpServer
    company: Callable[[], CompanyConfig]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    batch_size: int = 10
    max_attempts: int = 8
    poll_seconds: float = 0.5

    async def run(self) -> None:
        """Send until cancelled; survives database and SMTP outages."""
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

    async def send_due(self) -> int:
        """One round: claim, send, record. Returns how many emails were attempted."""
        async with self.pool().acquire() as conn, conn.transaction():
            now = self.clock()
            QUEUE_AGE.set(await sendlog.oldest_pending_age_seconds(conn, now))
            due = await sendlog.claim_due(conn, now, self.batch_size)
            if not due:
                return 0
            company = self.company().company
            outcomes = await asyncio.gather(
                *(
                    deliver(
                        compose(
                            s,
                            sender_name=company.name,
                            sender_address=company.support_address,
                            at=now,
                        ),
                        self.server,
                    )
                    for s in due
                )
            )
            crash_point("notifier:after_accept")
            for send, delivery in zip(due, outcomes, strict=True):
                await self._record(conn, send, delivery, now)
            return len(due)

    async def _record(
        self, conn: Connection, send: Send, delivery: Delivery, now: datetime
    ) -> None:
        attempts = send.attempts + 1
        common = {
            "thread_id": send.thread_id,
            "correlation_id": send.thread_id,
            "causation_id": send.source_event_id,
            "notification_id": send.notification_id,
            "idempotency_key": send.idempotency_key,
            "source_event_id": send.source_event_id,
            "template": send.template,
            "recipient_role": Role(send.recipient_role),
            "recipient": send.recipient,
            "attempts": attempts,
        }
        if delivery.accepted:
            await sendlog.mark_sent(conn, send.idempotency_key, attempts)
            event: NotificationSent | NotificationFailed = NotificationSent(
                **common, email_message_id=send.message_id, subject=send.subject
            )
            SENT.inc()
        elif delivery.permanent or attempts >= self.max_attempts:
            error = delivery.error or "refused"
            await sendlog.mark_failed(conn, send.idempotency_key, attempts, error)
            event = NotificationFailed(
                **common, error=error, smtp_code=delivery.code, permanent=delivery.permanent
            )
            FAILED.inc()
            log.warning("email failed", notification_id=send.notification_id, code=delivery.code)
        else:
            RETRIES.inc()
            await sendlog.retry_later(
                conn,
                send.idempotency_key,
                attempts,
                delivery.error or "deferred",
                now + retry_delay(attempts),
            )
            return
        await store.enqueue(conn, SCHEMA, [outgoing(event, SOURCE)])

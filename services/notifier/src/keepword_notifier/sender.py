"""The sending loop: folds held escalation emails into digests, claims due emails from the send
log, hands them to SMTP, records the outcome and announces it (NotificationSent /
NotificationFailed) through the outbox.

An email is claimed with a lease (`leased_until`) committed before it is sent: other senders
(other processes against the same database) skip it, and if this one dies, its leased emails are
taken up again once the lease has run out. Claims overlap the sending: a new batch is claimed
when no more than one email per conversation is left besides those whose outcome is being
recorded, so no SMTP conversation waits for the database between batches.

Each email's outcome is recorded — marked sent, failed or due again, with its event — right
after the server's answer. Outcomes that arrive together are committed together (one statement
whatever their number, on a connection the sender keeps), while the conversations go on with
their next emails: what is bounded is the acceptances not yet recorded. An email's body and
final dot, which let the server accept it, are sent only once fewer than `connections` accepted
emails wait for their record. So the only window for a duplicate is the instant between a
server's "250" and that commit, for at most `connections` emails, and a duplicate carries the
same Message-ID (the same bytes).

When the database cannot take the record (an outage), the outcome is kept in memory and
recorded again, with backoff, until it is: this process never claims an email whose outcome it
knows, even with its lease run out, and it extends the leases of what it holds, so no other
sender takes them while the database is there to ask. Digests keep the promise because a digest
is decided (its members, its Message-ID) and committed before it is sent: a resend is the same
digest, never a different one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy
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
from .smtp import BeforeAccept, Delivery, SmtpConnections, SmtpServer

# Never an address or a body in a log line: `rcpt` is a reference (see privacy.recipient_ref).
log = structlog.get_logger(__name__)

SCHEMA = "notifier"
SOURCE = "/keepword/notifier"


@dataclass
class _Outcome:
    """An email's SMTP outcome, until the send log has it."""

    send: Send
    delivery: Delivery
    answered_at: datetime
    failures: int = 0  # attempts to record it that failed
    retry_at: float = 0.0  # time.monotonic() of the next attempt


@dataclass
class Sender:
    """Sends what is due, a few at a time, until cancelled."""

    pool: Callable[[], asyncpg.Pool]
    server: SmtpServer
    company: Callable[[], CompanyConfig]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    batch_size: int = 50  # emails claimed at most per statement (and leased at once)
    connections: int = 10  # SMTP conversations at once, over connections kept open
    max_attempts: int = 8
    poll_seconds: float = 0.5
    digest_window: timedelta = timedelta(0)  # 0: escalation emails are never held
    lease: timedelta = timedelta(seconds=60)  # extended while held (see `run`)
    _smtp: SmtpConnections = field(init=False)
    _parallel: asyncio.Semaphore = field(init=False)  # SMTP conversations at once
    _accepting: asyncio.Semaphore = field(init=False)  # acceptances not yet recorded, at most
    _queue_age_at: float = field(init=False, default=float("-inf"))
    _held: set[str] = field(init=False, default_factory=set)  # claimed, outcome not recorded
    _unrecorded: dict[str, _Outcome] = field(init=False, default_factory=dict)
    # Outcomes waiting for the next commit, and the task committing them (see `_settle`).
    _to_record: list[tuple[_Outcome, asyncio.Future[bool]]] = field(
        init=False, default_factory=list
    )
    _recorder: asyncio.Task[None] | None = field(init=False, default=None)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    # The connection outcomes are recorded on, kept between records (see `_recording`).
    _conn: tuple[asyncpg.Pool, PoolConnectionProxy] | None = field(init=False, default=None)
    _conn_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self._smtp = SmtpConnections(self.server, keep=self.connections)
        self._parallel = asyncio.Semaphore(self.connections)
        self._accepting = asyncio.Semaphore(self.connections)

    @property
    def unrecorded(self) -> int:
        """Emails whose outcome is known here but not yet in the send log."""
        return len(self._unrecorded)

    async def run(self) -> None:
        """Send until cancelled; survives database and SMTP outages."""
        keeper = asyncio.create_task(self._keep_leases(), name="notifier-leases")
        listener = asyncio.create_task(self._listen(), name="notifier-listen")
        sending: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    self._wake.clear()  # before the claim: an email added during it wakes the wait
                    now = self.clock()
                    due = await self._claim(self.batch_size - len(sending), now)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database is away: try again shortly
                    log.warning("sending interrupted; will retry", exc_info=True)
                    await asyncio.sleep(self.poll_seconds * 4)
                    continue
                sending.update(asyncio.create_task(self._send(s, now)) for s in due)
                if not due:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                # Claim again once no more than one email per conversation is left besides
                # those whose outcome is being recorded, so that no conversation waits for the
                # claim (and no lease is taken long before its email goes).
                while len(sending) > 2 * self.connections:
                    done, sending = await asyncio.wait(sending, return_when=FIRST_COMPLETED)
                    _report_failures(done)
                done = {task for task in sending if task.done()}
                sending -= done
                _report_failures(done)
        finally:
            keeper.cancel()
            listener.cancel()
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)
            # Stopping: one last try for what is known but unrecorded (else sent again later).
            with contextlib.suppress(Exception):
                if self._recorder is not None:
                    await asyncio.wait_for(asyncio.shield(self._recorder), timeout=5)
                await asyncio.wait_for(self._record_unrecorded(now=True), timeout=5)
            await self.close()

    async def close(self) -> None:
        """Close the SMTP connections kept open, and give back the database connection."""
        await self._smtp.close()
        await self._give_back_connection()

    async def send_due(self) -> int:
        """One round: record outcomes still unrecorded, decide on held emails, then claim,
        send and record each email. Returns how many emails were attempted."""
        now = self.clock()
        try:
            due = await self._claim(self.batch_size, now)
            await asyncio.gather(*(self._send(s, now) for s in due))
        finally:
            await self._give_back_connection()  # kept only while `run` runs
        return len(due)

    async def _claim(self, limit: int, now: datetime) -> list[Send]:
        """Record outcomes still unrecorded, decide on held emails, then lease up to `limit`
        due emails."""
        await self._record_unrecorded()
        if self.digest_window > timedelta(0):
            await self.plan_digests()
        if limit <= 0:
            return []
        async with self.pool().acquire() as conn:
            if time.monotonic() - self._queue_age_at >= 1.0:  # a gauge: once a second will do
                QUEUE_AGE.set(await sendlog.oldest_waiting_age_seconds(conn, now))
                self._queue_age_at = time.monotonic()
            due = await sendlog.claim_due(
                conn,
                now,
                limit,
                lease_until=now + self.lease,
                excluding=list(self._unrecorded),
            )
        self._held.update(s.idempotency_key for s in due)
        return due

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

    async def _send(self, send: Send, now: datetime) -> None:
        # The conversation ends with the server's answer; the place taken among the acceptances
        # not yet recorded (before the email's bytes went) is kept until the record.
        taken = False

        async def take_a_place() -> None:
            nonlocal taken
            await self._accepting.acquire()
            taken = True

        try:
            async with self._parallel:
                delivery = await self._deliver(send, now, take_a_place)
            if delivery.accepted:
                crash_point("notifier:after_accept")
            # When the server answered (not when the round began): digests count from it.
            await self._settle(_Outcome(send, delivery, self.clock()))
        finally:
            if taken:
                self._accepting.release()

    async def _settle(self, outcome: _Outcome) -> bool:
        """Record `outcome` with whatever outcomes arrive meanwhile (one commit for all), or
        keep it to record later; True once it is recorded."""
        recorded = asyncio.get_running_loop().create_future()
        self._to_record.append((outcome, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_queued(), name="notifier-record")
        result: bool = await recorded
        return result

    async def _record_queued(self) -> None:
        while self._to_record:
            batch, self._to_record = self._to_record, []
            recorded = await self._record_or_keep([outcome for outcome, _ in batch])
            for _, future in batch:
                if not future.done():  # its sender may have been cancelled meanwhile
                    future.set_result(recorded)

    async def _record_or_keep(self, outcomes: list[_Outcome]) -> bool:
        """Record `outcomes` in one transaction, or keep them all to record again later (with
        backoff); True once they are recorded."""
        try:
            await self._record(outcomes)
        except asyncio.CancelledError:
            raise
        except Exception as trouble:
            for outcome in outcomes:
                outcome.failures += 1
                outcome.retry_at = time.monotonic() + min(0.25 * 2**outcome.failures, 5.0)
                self._unrecorded[outcome.send.idempotency_key] = outcome
                log.warning(
                    "outcome not recorded; kept to record again",
                    notification_id=outcome.send.notification_id,
                    accepted=outcome.delivery.accepted,
                    failures=outcome.failures,
                    error=type(trouble).__name__,
                )
            return False
        for outcome in outcomes:
            key = outcome.send.idempotency_key
            self._unrecorded.pop(key, None)
            self._held.discard(key)
        return True

    async def _record_unrecorded(self, *, now: bool = False) -> None:
        """Record the outcomes the database could not take before whose backoff has passed
        (all of them `now`), together."""
        due = [
            outcome
            for outcome in self._unrecorded.values()
            if now or outcome.retry_at <= time.monotonic()
        ]
        if due:
            await self._record_or_keep(due)

    async def _listen(self) -> None:
        """Wake the loop as soon as a dispatcher (of any process) commits new emails, rather than
        at its next poll; the poll still finds them should a notification be missed."""
        while True:
            try:
                async with self.pool().acquire() as conn:
                    lost = asyncio.Event()

                    def on_lost(_: object, lost: asyncio.Event = lost) -> None:
                        lost.set()

                    conn.add_termination_listener(on_lost)
                    await conn.add_listener(sendlog.CHANNEL, self._on_added)
                    try:
                        while not conn.is_closed():  # (a backstop for the termination listener)
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(lost.wait(), self.poll_seconds * 4)
                    finally:
                        conn.remove_termination_listener(on_lost)
                        with contextlib.suppress(Exception):
                            await conn.remove_listener(sendlog.CHANNEL, self._on_added)
            except asyncio.CancelledError:
                raise
            except Exception as trouble:  # the database is away: polling goes on meanwhile
                log.warning("not listening for new emails", error=type(trouble).__name__)
            await asyncio.sleep(self.poll_seconds * 4)

    def _on_added(self, *_: object) -> None:
        self._wake.set()

    async def _keep_leases(self) -> None:
        """Extend the leases of the emails held here, so that no other sender takes them while
        they are being sent or their outcome waits to be recorded."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self._held:
                continue
            try:
                async with self.pool().acquire(timeout=self.lease.total_seconds() / 3) as conn:
                    await sendlog.extend_leases(conn, list(self._held), self.clock() + self.lease)
            except Exception as trouble:  # the database is away: the next turn tries again
                log.warning("leases not extended", error=type(trouble).__name__)

    async def _deliver(
        self, send: Send, now: datetime, before_accept: BeforeAccept | None = None
    ) -> Delivery:
        company = self.company().company
        try:
            message = compose(
                send,
                sender_name=company.name,
                sender_address=company.support_address,
                at=send.created_at or now,
            )
            data = to_wire(message)
        except (UnsafeEmail, ValueError) as unsafe:
            # Never on the wire: no retry can make this email safe.
            return Delivery(False, permanent=True, error=f"not sent: {unsafe}"[:500])
        started = time.perf_counter()
        try:
            return await self._smtp.deliver(
                data,
                sender=company.support_address,
                recipient=send.recipient,
                before_accept=before_accept,
            )
        finally:
            SMTP_SECONDS.observe(time.perf_counter() - started)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        """Record these emails' outcomes, and the events announcing them, in one transaction;
        raises when the database cannot take it."""
        retries: list[tuple[sendlog.Outcome, datetime]] = []
        finished: list[sendlog.Outcome] = []
        by_key = {outcome.send.idempotency_key: outcome for outcome in outcomes}
        for outcome in outcomes:
            send, delivery = outcome.send, outcome.delivery
            error = None if delivery.accepted else delivery.error or "refused"
            record = sendlog.Outcome(
                send.idempotency_key, send.attempts + 1, outcome.answered_at, error
            )
            if error is not None and not delivery.permanent and record.attempts < self.max_attempts:
                retries.append((record, outcome.answered_at + retry_delay(record.attempts)))
            else:
                finished.append(record)
        async with self._recording() as conn:
            if any(outcome.send.template == DIGEST_TEMPLATE for outcome in outcomes):
                done = await self._record_with_digests(conn, by_key, finished, retries)
            else:
                announcements = [
                    (record.key, outgoing(event, SOURCE))
                    for record in finished
                    for event in _announcements(
                        [by_key[record.key].send], by_key[record.key], record
                    )
                ]
                done = await sendlog.record_outcomes(conn, finished, retries, announcements)
        # Only what this commit records is announced: an earlier try may have committed, its
        # answer lost.
        recorded = [record for record in finished if record.key in done]
        for record, at in retries:
            RETRIES.inc()
            outcome = by_key[record.key]
            log.info(
                "email deferred",
                code=outcome.delivery.code,
                retry_at=at.isoformat(),
                **_about(outcome),
            )
        for record in recorded:
            outcome = by_key[record.key]
            if outcome.delivery.accepted:
                SENT.inc()
                log.info("email sent", **_about(outcome))
            else:
                FAILED.inc()
                log.warning(
                    "email failed",
                    code=outcome.delivery.code,
                    permanent=outcome.delivery.permanent,
                    **_about(outcome),
                )

    async def _record_with_digests(
        self,
        conn: Connection,
        by_key: dict[str, _Outcome],
        finished: list[sendlog.Outcome],
        retries: list[tuple[sendlog.Outcome, datetime]],
    ) -> set[str]:
        """Record outcomes among which are digests' (whose members end as they do, each
        announced), in one transaction; the keys finished now."""
        async with conn.transaction():
            await sendlog.retry_later(conn, retries)
            done = await sendlog.mark_finished(conn, finished)
            events = []
            for record in finished:
                if record.key in done:
                    outcome = by_key[record.key]
                    announced = (
                        await sendlog.digest_members(conn, record.key)
                        if outcome.send.template == DIGEST_TEMPLATE
                        else [outcome.send]
                    )
                    events.extend(_announcements(announced, outcome, record))
            await store.enqueue(conn, SCHEMA, [outgoing(event, SOURCE) for event in events])
        return done

    @contextlib.asynccontextmanager
    async def _recording(self) -> AsyncIterator[PoolConnectionProxy]:
        """The connection to record outcomes on, one record at a time. Kept from one record to
        the next (no pool round trips, no reset after each); given back when it fails."""
        async with self._conn_lock:
            if self._conn is None:
                pool = self.pool()
                self._conn = (pool, await pool.acquire(timeout=10))
            try:
                yield self._conn[1]
            except BaseException:
                await self._give_back_connection(locked=True)
                raise

    async def _give_back_connection(self, *, locked: bool = False) -> None:
        async with contextlib.nullcontext() if locked else self._conn_lock:
            if self._conn is not None:
                (pool, conn), self._conn = self._conn, None
                with contextlib.suppress(Exception):
                    await pool.release(conn, timeout=5)


def _announcements(
    announced: list[Send], outcome: _Outcome, record: sendlog.Outcome
) -> list[NotificationSent | NotificationFailed]:
    """The events saying how the email ended: one per email `announced` (a digest announces
    each email it carried, with its own source event and thread, all naming the digest's
    Message-ID)."""
    send, delivery = outcome.send, outcome.delivery
    return [
        NotificationSent(
            **_facts(s, record.attempts), email_message_id=send.message_id, subject=send.subject
        )
        if delivery.accepted
        else NotificationFailed(
            **_facts(s, record.attempts),
            error=record.error or "refused",
            smtp_code=delivery.code,
            permanent=delivery.permanent,
        )
        for s in announced
    ]


def _report_failures(tasks: set[asyncio.Task[None]]) -> None:
    # A send never raises by design; should one, say so rather than lose it silently (its
    # email stays leased and is taken up again when the lease runs out).
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("sending an email failed", exc_info=task.exception())


def _about(outcome: _Outcome) -> dict[str, Any]:
    """What a log line says of an email: never its address (`rcpt` is a reference)."""
    send = outcome.send
    return {
        "notification_id": send.notification_id,
        "template": send.template,
        "rcpt": recipient_ref(send.recipient),
        "attempts": send.attempts + 1,
        "thread_id": send.thread_id,
    }


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

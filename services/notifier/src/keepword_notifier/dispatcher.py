"""From events to due emails: who hears what (`recipients`), rendered (`rendering`), recorded
in the send log once per (event, recipient, template). The sender does the sending."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from keepword_events import (
    CommitmentStatusChanged,
    Customer,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    Event,
    FeedbackRequested,
    MessageReceived,
    OptionKind,
    ReplySent,
    Role,
    VagueTimePromised,
    Verdict,
    WeeklyReportDue,
)
from keepword_events.thread_refs import keepword_message_id
from keepword_platform.answer_links import answer_url, sign_answer
from keepword_platform.call_links import call_url, sign_call
from keepword_platform.company import CompanyConfig
from keepword_platform.dashboard_links import dashboard_link
from keepword_platform.database import Connection
from keepword_platform.decision_links import decision_url, sign_decision
from keepword_platform.messaging import timers
from keepword_platform.messaging.inputs import Inputs, on
from keepword_platform.promise_links import PromiseChange, promise_url, sign_change
from keepword_platform.rating_links import rating_url, sign_rating
from keepword_platform.reply_deadline import company_reply_deadline
from keepword_platform.settings import KeepwordSettings

from . import context_store, sendlog
from .compose import plain_message_id
from .digest import digest_group
from .recipients import Notice, ThreadContext, acknowledgement_for, notices_for
from .rendering import render
from .report_chart import chart_png
from .report_notices import inline_chart, week_link

SCHEMA = "notifier"
ACKNOWLEDGE = "acknowledge"
_IDS = uuid.UUID("3e1c7a52-9b0d-4f6e-8a21-5d4c3b2a1f90")


@dataclass
class _Batch:
    """A batch of events being handled (see `Dispatcher.on_events`): the threads' contexts read
    at its start (dropped as its events change them) and the emails it calls for so far."""

    contexts: dict[str, ThreadContext]
    sends: list[sendlog.Send] = field(default_factory=list)


# Per task: the timers' step, running beside a batch, records its emails as before.
_BATCH: ContextVar[_Batch | None] = ContextVar("notifier_batch", default=None)


class Dispatcher:
    """Turns events (and the acknowledgement timer) into rows of the send log."""

    def __init__(
        self,
        company: Callable[[], CompanyConfig],
        settings: KeepwordSettings,
        clock: Callable[[], datetime] | None = None,
        horizon: timedelta = timedelta(hours=24),
        digest_window: timedelta = timedelta(0),
    ) -> None:
        self._company = company
        self._settings = settings
        self._now = clock or (lambda: datetime.now(UTC))
        self._horizon = horizon
        self._digests = digest_window > timedelta(0)

    def _link(self, escalation_id: str, option: OptionKind, manager_email: str) -> str:
        token = sign_decision(
            self._settings.link_secret,
            escalation_id=escalation_id,
            option=option.value,
            manager=manager_email,
        )
        return decision_url(self._settings.escalation_public_url, token)

    def _rating_link(self, thread_id: str, rating: int | None) -> str:
        token = sign_rating(self._settings.link_secret, thread_id=thread_id, rating=rating)
        return rating_url(self._settings.intake_public_url, token)

    def _answer_link(self, event: CommitmentStatusChanged, verdict: Verdict, person: str) -> str:
        token = sign_answer(self._settings.link_secret, event, verdict, person)
        return answer_url(self._settings.intake_public_url, token)

    def _change_link(
        self, event: CommitmentStatusChanged, change: PromiseChange, person: str
    ) -> str:
        token = sign_change(self._settings.link_secret, event, change, person)
        return promise_url(self._settings.intake_public_url, token)

    def _call_link(
        self, thread_id: str, escalation_id: str, person: str, customer: Customer
    ) -> str:
        token = sign_call(
            self._settings.link_secret,
            thread_id=thread_id,
            escalation_id=escalation_id,
            person=person,
            customer=customer,
        )
        return call_url(self._settings.intake_public_url, token)

    def dashboard(self, manager: str) -> str:
        """The manager's signed dashboard link (the weekly report's)."""
        return dashboard_link(
            self._settings.link_secret, self._settings.insights_public_url, manager
        )

    def week(self, first: date, last: date) -> str:
        """The dashboard filtered to a week (the weekly report's)."""
        return week_link(self._settings.insights_public_url, first, last)

    async def on_event(
        self, conn: Connection, envelope: Envelope[Event]
    ) -> Sequence[Event | Envelope[Event]]:
        """Remember what the emails will need, then record the emails the event calls for."""
        return await INPUTS.handle(self, conn, envelope)

    async def on_events(
        self, conn: Connection, envelopes: Sequence[Envelope[Event]]
    ) -> Sequence[Event | Envelope[Event]]:
        """A batch of events, each as `on_event` handles it and in order, with two statements
        for all of them rather than two per event: the threads' contexts are read at once, and
        the emails the batch calls for are recorded at once."""
        batch = _Batch(await context_store.load_many(conn, {e.data.thread_id for e in envelopes}))
        caused: list[Event | Envelope[Event]] = []
        token = _BATCH.set(batch)
        try:
            for envelope in envelopes:
                caused.extend(await INPUTS.handle(self, conn, envelope))
                await asyncio.sleep(0)  # rendering is work: let the loop breathe between events
        finally:
            _BATCH.reset(token)
        await sendlog.add_many(conn, batch.sends)
        return caused

    async def customer_wrote(
        self, conn: Connection, envelope: Envelope[MessageReceived]
    ) -> Sequence[Event]:
        """A customer's message: remembered, and acknowledged later if nobody answers."""
        data = envelope.data
        if not data.sender_verified:
            # Mail claiming a staff address without proof: shown to managers as such, never
            # acknowledged, and the thread's customer stays who it was.
            await context_store.unverified_mail(conn, data)
            _changed(data.thread_id)
            return await self.notify(conn, envelope)
        wait = await context_store.customer_wrote(conn, data)
        _changed(data.thread_id)
        if wait is not None:
            company = self._company()
            due = data.received_at + company.sla.acknowledge_after
            # The time escalation's clock holds, fixed now from the same inputs: the
            # acknowledgement is sent later and must not depend on escalation's events.
            promised = company_reply_deadline(
                company, data.received_at, answered_before=wait.answered_before
            ).due_at
            payload = {
                "message": data.model_dump(mode="json"),
                "event_id": envelope.id,
                "due_by": promised.isoformat(),
            }
            await timers.set_timer(conn, SCHEMA, ACKNOWLEDGE, data.thread_id, due, payload)
        return await self.notify(conn, envelope)

    async def replied(self, conn: Connection, envelope: Envelope[ReplySent]) -> Sequence[Event]:
        """A reply that reached the customer: no acknowledgement is due any more."""
        data = envelope.data
        if data.reached_the_customer and data.sender_verified:
            await context_store.person_replied(conn, data.thread_id, data.sent_at)
            _changed(data.thread_id)
            await timers.cancel_timers(conn, SCHEMA, data.thread_id)
        return await self.notify(conn, envelope)

    async def promise_moved(
        self, conn: Connection, envelope: Envelope[CommitmentStatusChanged]
    ) -> Sequence[Event]:
        """A move of the ledger: remembered for the emails about the thread."""
        await context_store.promise_moved(conn, envelope.data)
        _changed(envelope.data.thread_id)
        return await self.notify(conn, envelope)

    async def notify(self, conn: Connection, envelope: Envelope[Event]) -> Sequence[Event]:
        """Record the emails the event calls for."""
        data = envelope.data
        if self._now() - envelope.time > self._horizon:
            # History (a new consumer group starting at the beginning of the topics): remember
            # it, but do not email anyone about what happened long ago.
            return []
        context = await _context(conn, data.thread_id)
        notices = notices_for(
            envelope,
            self._company(),
            now=self._now(),
            links=self._link,
            thread=context,
            ratings=self._rating_link,
            answers=self._answer_link,
            changes=self._change_link,
            calls=self._call_link,
            reports=self,
        )
        for notice in notices:
            # An email to the customer answers their latest email (web forms have none).
            answers = (
                context.last_customer_email_id if notice.recipient_role is Role.CUSTOMER else None
            )
            await self._record(conn, notice, envelope.id, answers)
        return []

    async def on_timer(self, conn: Connection, timer: timers.Timer) -> Sequence[Event]:
        """Nobody answered in time: tell the customer we have their message, and by when."""
        message = MessageReceived.model_validate(timer.payload["message"])
        company = self._company()
        if "due_by" in timer.payload:
            due_by = datetime.fromisoformat(str(timer.payload["due_by"]))
        else:  # set by an earlier version, which knew only first contacts
            due_by = company_reply_deadline(
                company, message.received_at, answered_before=False
            ).due_at
        notice = acknowledgement_for(message, company, due_by=due_by)
        await self._record(conn, notice, str(timer.payload["event_id"]), message.email_message_id)
        return []

    async def _record(
        self, conn: Connection, notice: Notice, source_event_id: str, answers: str | None = None
    ) -> None:
        company = self._company()
        key = f"{source_event_id}:{notice.recipient.lower()}:{notice.template}"
        notification_id = f"ntf-{uuid.uuid5(_IDS, key).hex[:20]}"
        domain = company.company.support_address.rsplit("@", 1)[-1]
        chart = inline_chart(notice)
        if chart is not None and await sendlog.recorded(conn, key):
            return  # a redelivered or replayed event: spare drawing the chart again
        email = render(notice, company)
        # Drawn off the event loop: a chart takes matplotlib 0.1 s or more.
        png = await asyncio.to_thread(chart_png, chart.bars, chart.label) if chart else None
        group = digest_group(notice.template, notice.recipient) if self._digests else None
        part = email.part if group else None  # rendered with the email, stored if it may fold
        send = sendlog.Send(
            idempotency_key=key,
            notification_id=notification_id,
            source_event_id=source_event_id,
            thread_id=notice.thread_id,
            template=notice.template,
            recipient=notice.recipient,
            recipient_role=notice.recipient_role.value,
            # Short enough to stay on one header line (some mail tools mishandle folding).
            message_id=keepword_message_id(notice.thread_id, notification_id[4:16], domain),
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            digest_group=group,
            digest_text=part.text if part else None,
            digest_html=part.html if part else None,
            # Kept only when it is a plain Message-ID: it came from someone's email.
            in_reply_to=answers if answers and plain_message_id(answers) else None,
            inline_cid=chart.cid if chart else None,
            inline_png=png,
        )
        batch = _BATCH.get()
        if batch is None:
            await sendlog.add(conn, send)
        else:
            batch.sends.append(send)


async def _context(conn: Connection, thread_id: str) -> ThreadContext:
    """The thread's context: as the batch read it, unless one of its events changed it since."""
    batch = _BATCH.get()
    known = batch.contexts.get(thread_id) if batch is not None else None
    return known if known is not None else await context_store.load(conn, thread_id)


def _changed(thread_id: str) -> None:
    """The thread's context changed: what the batch read of it is stale."""
    batch = _BATCH.get()
    if batch is not None:
        batch.contexts.pop(thread_id, None)


INPUTS: Inputs[Dispatcher] = Inputs(
    on(MessageReceived, Dispatcher.customer_wrote),
    on(ReplySent, Dispatcher.replied),
    on(CommitmentStatusChanged, Dispatcher.promise_moved),
    on(EscalationOpened, Dispatcher.notify),
    on(EscalationRaised, Dispatcher.notify),
    on(EscalationDecided, Dispatcher.notify),
    on(VagueTimePromised, Dispatcher.notify),
    on(FeedbackRequested, Dispatcher.notify),
    on(WeeklyReportDue, Dispatcher.notify),
)
"""What the notifier reads: messages (for memory and acknowledgements), the ledger's changes,
promises that named only a vague time, escalations, and the managers' weekly reports."""

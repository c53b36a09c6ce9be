"""Taking one parsed email in, whichever door it came through: find its thread, publish it once.

The SMTP listener and the mailbox connector both hand over an `InboundEmail` and where it came
from (`MailOrigin`); what the origin proves about the sender is decided here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import asyncpg
import structlog
from keepword_events.thread_refs import new_thread_id
from keepword_platform.company import CompanyConfig

from . import repository
from .facts import new_id
from .inbound_email import InboundEmail
from .mail_facts import earlier_message_ids, email_event, email_event_id, parties, thread_named_in
from .publishing import EventPublisher

log = structlog.get_logger(__name__)


class MailOrigin(StrEnum):
    """Where an email was read: what that door can vouch for about its sender."""

    SMTP = "smtp"  # the listener, no SMTP AUTH: the From: header is only a claim
    SMTP_AUTH = "smtp_auth"  # the listener, after SMTP AUTH
    MAILBOX_INBOX = "mailbox_inbox"  # the company's mailbox, INBOX: anyone can write there
    MAILBOX_SENT = "mailbox_sent"  # the company's own Sent folder: written by its staff


@dataclass(frozen=True, slots=True)
class MailAccepted:
    """What became of an email: its event id and thread, or that it was taken in before."""

    event_id: str
    thread_id: str
    duplicate: bool


class MailIntake:
    """Publishes each email once (by Message-ID), on the thread it belongs to."""

    def __init__(
        self,
        *,
        company: Callable[[], CompanyConfig],
        pool: Callable[[], asyncpg.Pool],
        publisher: EventPublisher,
    ) -> None:
        self._company = company
        self._pool = pool
        self._publisher = publisher

    async def accept(self, email: InboundEmail, origin: MailOrigin) -> MailAccepted:
        """Publish `email` (raises what the publisher raises: BrokerUnavailable, EventTooLarge,
        or a ValidationError for facts the contract refuses)."""
        pool = self._pool()
        email_message_id = email.message_id or f"<{new_id('mail')}@intake.keepword>"
        event_id = email_event_id(email_message_id)
        known = await repository.thread_of_email(pool, [email_message_id])
        if known is not None:
            return MailAccepted(event_id, known, duplicate=True)
        thread_id = (
            thread_named_in(email)
            or await repository.thread_of_email(pool, earlier_message_ids(email))
            or new_thread_id()
        )
        event = email_event(
            email,
            parties(email, self._company()),
            thread_id=thread_id,
            message_id=new_id("msg"),
            received_at=datetime.now(UTC),
        )
        await self._publisher.publish(event, event_id)
        await repository.remember_email(pool, email_message_id, thread_id)
        log.info(
            "email accepted",
            thread_id=thread_id,
            event_id=event_id,
            type=event.ce_type,
            origin=origin,
        )
        return MailAccepted(event_id, thread_id, duplicate=False)

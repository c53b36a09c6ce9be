"""Taking one parsed email in, whichever door it came through: find its thread, publish it once.

The SMTP listener and the mailbox connector both hand over an `InboundEmail` and where it came
from (`MailOrigin`); what the origin proves about the sender is decided here, in one place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog
from keepword_platform.company import CompanyConfig

from . import repository
from .facts import new_id
from .inbound_email import InboundEmail
from .mail_facts import (
    claims_staff,
    earlier_message_ids,
    email_event,
    email_event_id,
    first_thread_of,
    parties,
    thread_named_in,
)
from .mail_origin import MailOrigin
from .publishing import EventPublisher
from .sender_trust import Claim, MailTrust, Verdict, verdict

__all__ = ["MailAccepted", "MailIntake", "MailOrigin"]

log = structlog.get_logger(__name__)

VERIFY_BUDGET_SECONDS = 15.0
"""How long checking a sender's proof may take (DKIM: key lookups and hashing, in a worker
thread); past it the sender counts as unproven. The thread finishes on its own: dkimpy's DNS
timeout and MAX_SIGNATURES bound it."""


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
        trust: Callable[[], MailTrust] = MailTrust,
    ) -> None:
        self._company = company
        self._pool = pool
        self._publisher = publisher
        self._trust = trust

    async def accept(
        self,
        email: InboundEmail,
        origin: MailOrigin,
        *,
        raw: bytes | None = None,
        smtp_login: str | None = None,
    ) -> MailAccepted:
        """Publish `email` (raises what the publisher raises: BrokerUnavailable, EventTooLarge,
        or a ValidationError for facts the contract refuses).

        `raw` is the email as received (its DKIM signatures and Authentication-Results are
        read from it); `smtp_login` the SMTP AUTH login of an `SMTP_AUTH` submission. Mail from
        a staff address that none of them proves is published as an unknown sender's.
        """
        pool = self._pool()
        email_message_id = email.message_id or f"<{new_id('mail')}@intake.keepword>"
        event_id = email_event_id(email_message_id)
        known = await repository.thread_of_email(pool, [email_message_id])
        if known is not None:
            return MailAccepted(event_id, known, duplicate=True)
        thread_id = (
            thread_named_in(email)
            or await repository.thread_of_email(pool, earlier_message_ids(email))
            or first_thread_of(email_message_id)
        )
        company = self._company()
        proven = True
        if claims_staff(email, company):
            proof = await self._verdict(email, origin, raw, smtp_login)
            proven = proof.verified
            log.info("staff address claimed", proven=proven, how=proof.how, origin=origin)
        event = email_event(
            email,
            parties(email, company, verified=proven),
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

    async def _verdict(
        self, email: InboundEmail, origin: MailOrigin, raw: bytes | None, smtp_login: str | None
    ) -> Verdict:
        claim = Claim(email.from_address, smtp_login=smtp_login)
        try:
            async with asyncio.timeout(VERIFY_BUDGET_SECONDS):
                return await asyncio.to_thread(verdict, raw, origin, claim, self._trust())
        except TimeoutError:
            return Verdict(False, "not checked in time")

"""Reads one folder of one mailbox for as long as intake runs: every message above the recorded
UID is taken in (published once Kafka has it), then its UID recorded; then it waits for news.

A message that can never be taken in is set aside (where and why, no content) and the folder
goes on. Anything else that goes wrong (the IMAP server, the broker, the database) ends the
session: it starts again after a pause that doubles up to a minute, from the recorded UID.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog
from keepword_platform.company import Mailbox
from pydantic import ValidationError

from keepword_intake.inbound_email import EmailParseError, InboundEmail, parse_inbound_email
from keepword_intake.mail_intake import MailIntake, MailOrigin
from keepword_intake.publishing import EventTooLarge

from . import metrics, store
from .imap import FolderSession
from .position import Position, lag, start_from

log = structlog.get_logger(__name__)

FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder to read and the door its mail comes through."""

    name: str
    origin: MailOrigin


def folders_of(mailbox: Mailbox) -> tuple[Folder, ...]:
    """The inbox, and the Sent folder unless it is configured as "" (not read)."""
    inbox = Folder(mailbox.inbox, MailOrigin.MAILBOX_INBOX)
    if not mailbox.sent:
        return (inbox,)
    return inbox, Folder(mailbox.sent, MailOrigin.MAILBOX_SENT)


def _with_message_id(email: InboundEmail, raw: bytes) -> InboundEmail:
    # Without a Message-ID the event id would be new on every read: derive one from the bytes,
    # the same whenever this message is read again (after a restart or a new UIDVALIDITY).
    if email.message_id is not None:
        return email
    digest = hashlib.sha256(raw).hexdigest()[:40]
    return dataclasses.replace(email, message_id=f"<{digest}@mailbox.keepword.invalid>")


class FolderReader:
    """One folder's reading loop."""

    def __init__(
        self,
        mailbox: Mailbox,
        folder: Folder,
        *,
        intake: MailIntake,
        pool: Callable[[], asyncpg.Pool],
        max_email_bytes: int,
    ) -> None:
        self._mailbox = mailbox
        self._folder = folder
        self._intake = intake
        self._pool = pool
        self._max_email_bytes = max_email_bytes
        self._labels = {"mailbox": mailbox.name, "folder": folder.name}
        self._pause = FIRST_PAUSE_SECONDS

    async def run(self) -> None:
        """Read until cancelled, starting again after any failure."""
        while True:
            try:
                await self._session()
            except Exception as error:  # whatever broke, the next session starts afresh
                metrics.RECONNECTS.labels(**self._labels).inc()
                log.warning(
                    "mailbox session ended; starting again",
                    **self._labels,
                    error=type(error).__name__,
                    detail=str(error)[:200],
                    retry_in_seconds=self._pause,
                )
                await asyncio.sleep(self._pause)
                self._pause = min(self._pause * 2, LONGEST_PAUSE_SECONDS)

    async def _session(self) -> None:
        session, state = await FolderSession.open(self._mailbox, self._folder.name)
        metrics.CONNECTED.labels(**self._labels).set(1)
        try:
            pool = self._pool()
            recorded = await store.recorded_position(pool, self._mailbox.name, self._folder.name)
            position = start_from(recorded, state.uidvalidity)
            if position != recorded:
                if recorded is not None:
                    log.info("folder renumbered: reading it from the start", **self._labels)
                await store.record_position(pool, self._mailbox.name, self._folder.name, position)
            log.info("mailbox folder open", **self._labels, last_uid=position.last_uid)
            while True:
                position = await self._read_new(session, position)
                self._pause = FIRST_PAUSE_SECONDS  # a whole pass worked: the trouble is over
                await session.wait_for_news(self._mailbox.poll_every.total_seconds())
        finally:
            metrics.CONNECTED.labels(**self._labels).set(0)
            await session.close()

    async def _read_new(self, session: FolderSession, position: Position) -> Position:
        uids = await session.uids_above(position.last_uid)
        metrics.LAG.labels(**self._labels).set(lag(position, uids))
        for uid in uids:
            outcome = await self._take_in(session, position.uidvalidity, uid)
            position = Position(position.uidvalidity, uid)
            if outcome != "set_aside":  # set_aside recorded its UID together with the reason
                await store.record_position(
                    self._pool(), self._mailbox.name, self._folder.name, position
                )
            metrics.MESSAGES.labels(**self._labels, outcome=outcome).inc()
            metrics.LAG.labels(**self._labels).set(lag(position, uids))
        return position

    async def _take_in(self, session: FolderSession, uidvalidity: int, uid: int) -> str:
        """Publish the message at `uid` (or set it aside); the outcome, for the metrics."""
        raw = await session.fetch(uid)
        if raw is None:  # expunged since the search
            return "gone"
        if len(raw) > self._max_email_bytes:
            return await self._set_aside(uidvalidity, uid, "too large")
        try:
            # In a thread: crafted MIME can take the parser a good while (see the listener).
            email = await asyncio.to_thread(parse_inbound_email, raw)
        except EmailParseError as error:
            return await self._set_aside(uidvalidity, uid, f"unreadable: {error}")
        try:
            accepted = await self._intake.accept(
                _with_message_id(email, raw), self._folder.origin, raw=raw
            )
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            return await self._set_aside(uidvalidity, uid, f"refused by the contract: {fields}")
        except EventTooLarge:
            return await self._set_aside(uidvalidity, uid, "event too large for Kafka")
        await self._after_read(session, uid)
        return "duplicate" if accepted.duplicate else "accepted"

    async def _set_aside(self, uidvalidity: int, uid: int, reason: str) -> str:
        at = Position(uidvalidity, uid)
        await store.set_aside(self._pool(), self._mailbox.name, self._folder.name, at, reason)
        log.warning("mailbox message set aside", **self._labels, uid=uid, reason=reason[:200])
        return "set_aside"

    async def _after_read(self, session: FolderSession, uid: int) -> None:
        # Before the UID is recorded: a kill in between repeats the action, never skips it.
        # Only in the inbox: the staff's Sent folder is theirs to keep as it is.
        if self._folder.origin is not MailOrigin.MAILBOX_INBOX:
            return
        if self._mailbox.after_read == "seen":
            await session.mark_seen(uid)
        elif self._mailbox.after_read == "move" and self._mailbox.move_to is not None:
            await session.move(uid, self._mailbox.move_to)

"""A real SMTP server that keeps what it accepts in memory (aiosmtpd, in a thread of its own)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Caught:
    """One accepted email: who it was delivered to and what it said."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes  # as the server received it: a resent email must be the same bytes


class _Keeper:
    def __init__(self) -> None:
        self.caught: list[Caught] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message = message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.caught.append(Caught(tuple(envelope.rcpt_tos), message, data))
        return "250 OK"


class MailCatcher:
    """An SMTP server on 127.0.0.1:`port`; `emails()` is everything it accepted so far."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._keeper = _Keeper()
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        """Listen."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def emails(self) -> list[Caught]:
        """Every email accepted so far, in the order they arrived."""
        with self._keeper.lock:
            return list(self._keeper.caught)

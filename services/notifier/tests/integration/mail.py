"""A real SMTP server for the notifier's tests (aiosmtpd, in a thread): it keeps what it
accepted exactly as received — the envelope (MAIL FROM, RCPT TO) and the parsed message — and
can answer from a script first (451, 550, …)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, LoginPassword
from keepword_testkit.processes import free_port


@dataclass(frozen=True)
class Received:
    """One email the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool = False  # the session was encrypted (STARTTLS or implicit TLS)
    login: str | None = None  # who authenticated, if anyone
    helo: str | None = None  # the name the client gave in EHLO/HELO

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        content: str = body.get_content()
        return content


@dataclass
class Catcher:
    """An SMTP handler that answers each DATA with the next scripted reply, then 250."""

    replies: list[str] = field(default_factory=list)
    mail: list[Received] = field(default_factory=list)
    # SMTP sessions being handled now: 0 once a killed client's last bytes are dealt with.
    sessions: int = 0
    opened: int = 0  # SMTP sessions ever started
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        raw: bytes = envelope.original_content
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        tls = server.transport.get_extra_info("ssl_object") is not None
        auth: Any = getattr(session, "auth_data", None)
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        helo = getattr(session, "host_name", None)
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos), raw, message, tls, login, helo
        )
        self.mail.append(received)
        return "250 2.0.0 OK"

    def to(self, address: str, thread: str | None = None) -> list[Received]:
        """What reached `address` (about `thread`, when given: a broker may carry others)."""
        return [
            m
            for m in list(self.mail)
            if address in m.rcpt_tos
            and (thread is None or thread in m.raw.decode("utf-8", "replace"))
        ]

    def message_ids(self) -> list[str]:
        return [m.message_id for m in list(self.mail)]

    def _opened(self) -> None:
        with self._lock:
            self.sessions += 1
            self.opened += 1

    def _closed(self) -> None:
        with self._lock:
            self.sessions -= 1


class _Tracked(SMTP):
    async def _handle_client(self) -> None:
        catcher: Catcher = self.event_handler
        catcher._opened()
        try:
            await super()._handle_client()
        finally:
            catcher._closed()


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Tracked(self.handler, **self.SMTP_kwargs)


@contextmanager
def catching(catcher: Catcher | None = None, **smtp: Any) -> Iterator[tuple[Catcher, int]]:
    """Run an SMTP server on a free port for the block; `smtp` goes to aiosmtpd's SMTP."""
    handler = catcher or Catcher()
    port = free_port()
    controller = _Controller(handler, hostname="127.0.0.1", port=port, **smtp)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()

"""One IMAP connection to one folder, over aioimaplib: log in, select, list new UIDs, fetch one
message, act on it, wait for news with IDLE. The rest of the connector sees only this class."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any, cast

import aioimaplib  # type: ignore[import-untyped]  # the library ships no type information
from keepword_platform.company import Mailbox

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
TIMEOUT_SECONDS = 30.0


class ImapError(Exception):
    """The server refused or broke off; the message never holds a credential."""


@dataclass(frozen=True, slots=True)
class FolderState:
    """What SELECT told about the folder."""

    uidvalidity: int


def _tls_context(mailbox: Mailbox) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if mailbox.ca_file is not None:
        context.load_verify_locations(cafile=str(mailbox.ca_file))
    return context


def _credential(mailbox: Mailbox) -> tuple[str, str]:
    """("password" | "xoauth2", the secret), read when connecting (tokens are rotated)."""
    if mailbox.password is not None:
        return "password", mailbox.password.get_secret_value()
    variable = mailbox.password_env or mailbox.oauth2_token_env
    assert variable is not None  # the configuration requires one credential
    value = os.environ.get(variable)
    if not value:
        raise ImapError(f"mailbox {mailbox.name}: ${variable} is not set")
    return ("password" if mailbox.password_env else "xoauth2"), value


def _checked(response: Any, what: str) -> list[Any]:
    if response.result != "OK":
        # The server's words only: a refused LOGIN says nothing about the password sent.
        last = response.lines[-1] if response.lines else b""
        text = bytes(last).decode("utf-8", "replace")[:200]
        raise ImapError(f"{what}: {response.result} {text}")
    return list(response.lines)


class FolderSession:
    """A logged-in connection with `folder` selected."""

    def __init__(self, client: Any, mailbox: Mailbox, folder: str, lost: asyncio.Event) -> None:
        self._client = client
        self._lost = lost  # set when the server closes the connection
        self._mailbox = mailbox
        self.folder = folder

    @classmethod
    async def open(cls, mailbox: Mailbox, folder: str) -> tuple[FolderSession, FolderState]:
        """Connect (TLS, or STARTTLS before anything else), log in, select `folder`."""
        context = _tls_context(mailbox)
        lost = asyncio.Event()
        client = aioimaplib.IMAP4(
            mailbox.host,
            mailbox.port,
            timeout=TIMEOUT_SECONDS,
            conn_lost_cb=lambda _error: lost.set(),
            ssl_context=context if mailbox.security == "tls" else None,
        )
        session = cls(client, mailbox, folder, lost)
        try:
            await client.wait_hello_from_server()
            if mailbox.security == "starttls":
                await session._start_tls(context)
            kind, secret = _credential(mailbox)
            if kind == "password":
                _checked(await client.login(mailbox.username, secret), "LOGIN")
            else:
                _checked(await client.xoauth2(mailbox.username, secret), "AUTHENTICATE XOAUTH2")
            lines = _checked(await client.select(_quoted(folder)), f"SELECT {folder}")
        except BaseException:
            session.abort()
            raise
        for line in lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return session, FolderState(uidvalidity=int(found[1]))
        session.abort()
        raise ImapError(f"SELECT {folder}: no UIDVALIDITY")

    async def _start_tls(self, context: ssl.SSLContext) -> None:
        # aioimaplib knows the STARTTLS command but not the upgrade: swap the transport here.
        protocol = self._client.protocol
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        _checked(await asyncio.wait_for(protocol.execute(command), TIMEOUT_SECONDS), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await loop.start_tls(
            protocol.transport, protocol, context, server_hostname=self._mailbox.host
        )
        await asyncio.wait_for(protocol.capability(), TIMEOUT_SECONDS)  # asked again, over TLS

    async def uids_above(self, last_uid: int) -> list[int]:
        """UIDs in the folder greater than `last_uid`, ascending."""
        lines = _checked(
            await self._client.uid_search(f"UID {last_uid + 1}:*", charset=None), "SEARCH"
        )
        uids = {int(word) for line in lines[:-1] for word in bytes(line).split() if word.isdigit()}
        # "N:*" always names the highest UID, even one below N.
        return sorted(uid for uid in uids if uid > last_uid)

    async def fetch(self, uid: int) -> bytes | None:
        """The raw message (not marked \\Seen), or None when it is gone."""
        response = await self._client.uid("fetch", str(uid), "(BODY.PEEK[])")
        lines = _checked(response, "FETCH")
        literal = next((line for line in lines if isinstance(line, bytearray)), None)
        return bytes(literal) if literal is not None else None

    async def mark_seen(self, uid: int) -> None:
        """Flag the message \\Seen."""
        _checked(await self._client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "STORE")

    async def move(self, uid: int, to_folder: str) -> None:
        """Move the message to `to_folder` (MOVE, or COPY + delete where MOVE is missing)."""
        if self._client.has_capability("MOVE"):
            _checked(await self._client.uid("move", str(uid), _quoted(to_folder)), "MOVE")
            return
        _checked(await self._client.uid("copy", str(uid), _quoted(to_folder)), "COPY")
        await self.mark_deleted(uid)

    async def mark_deleted(self, uid: int) -> None:
        """Flag the message \\Deleted and expunge it (UIDPLUS) or leave it for the next one."""
        _checked(await self._client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
        if self._client.has_capability("UIDPLUS"):
            _checked(await self._client.uid("expunge", str(uid)), "EXPUNGE")

    async def wait_for_news(self, seconds: float) -> None:
        """Return when the server reports a change (IDLE) or after `seconds`, whichever first.

        Without IDLE the folder is simply looked at again after `seconds` (NOOP keeps the
        connection checked).
        """
        if not self._client.has_capability("IDLE"):
            await asyncio.sleep(seconds)
            _checked(await self._client.noop(), "NOOP")
            return
        idle = await self._client.idle_start(timeout=seconds)
        push = asyncio.ensure_future(
            self._client.wait_server_push(timeout=seconds + TIMEOUT_SECONDS)
        )
        gone = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({push, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            push.cancel()
        pushed_lines = push.result() if push.done() and not push.cancelled() else []
        if self._lost.is_set() or any(bytes(line).startswith(b"BYE") for line in pushed_lines):
            # e.g. the folder was deleted or renumbered: the next session sees it as it is now
            raise ImapError(f"{self.folder}: the server closed the session")
        if self._client.has_pending_idle():
            self._client.idle_done()
        _checked(await asyncio.wait_for(idle, TIMEOUT_SECONDS), "IDLE")
        pushed = self._client.protocol.idle_queue
        while not pushed.empty():  # what else came meanwhile: the next look sees it anyway
            pushed.get_nowait()

    async def close(self) -> None:
        """LOGOUT, politely; a connection already broken is just dropped."""
        try:
            await asyncio.wait_for(self._client.logout(), 5)
        except Exception:  # the session is over either way
            self.abort()

    def abort(self) -> None:
        """Drop the connection at once."""
        transport = cast("asyncio.BaseTransport | None", self._client.protocol.transport)
        if transport is not None:
            transport.close()


def _quoted(folder: str) -> str:
    # A folder such as "Sent Items" must be one IMAP string.
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'

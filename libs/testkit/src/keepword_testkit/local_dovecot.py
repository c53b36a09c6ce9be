"""A private Dovecot (IMAP + LMTP) for tests of the mailbox connector (deploy/local/dovecot.sh).

Mail is delivered as an MTA delivers it, over LMTP; the tests read and write it as a mail
client does, over IMAP with TLS (the instance's own CA).
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .processes import free_port

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "deploy" / "local" / "dovecot.sh"
USER = "support@brightline.example"


def _run(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the project's own script
        ["/bin/bash", str(SCRIPT), *args], capture_output=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"dovecot.sh {' '.join(args)} failed ({done.returncode}): "
            f"{(done.stdout + done.stderr).decode(errors='replace')[-3000:]}"
        )
    return done.stdout.decode(errors="replace")


@dataclass
class LocalDovecot:
    """An instance with its state under `state_dir`: IMAPS on `port`, STARTTLS on `port` + 1."""

    state_dir: Path
    port: int

    @property
    def starttls_port(self) -> int:
        """IMAP with STARTTLS (required before login)."""
        return self.port + 1

    @property
    def user(self) -> str:
        """The mailbox's login."""
        return (self.state_dir / "user").read_text().strip()

    @property
    def password(self) -> str:
        """The mailbox's password (made by the script on first start)."""
        return (self.state_dir / "password").read_text()

    @property
    def ca_file(self) -> Path:
        """The CA that signed the server's certificate: what a client trusts."""
        return self.state_dir / "tls" / "ca.crt"

    @property
    def lmtp_socket(self) -> Path:
        """Where the MTA hands mail over."""
        linked = self.state_dir / "state"  # the state may live elsewhere (see dovecot.sh)
        return (linked.resolve() if linked.is_symlink() else self.state_dir) / "run" / "lmtp"

    def start(self) -> None:
        """Start it (installing Dovecot, making the certificates on first use)."""
        _run("start", str(self.state_dir), str(self.port))

    def stop(self) -> None:
        """Stop it; the mail stays."""
        _run("stop", str(self.state_dir))

    def destroy(self) -> None:
        """Stop it and delete everything."""
        _run("destroy", str(self.state_dir))

    def doveadm(self, *args: str) -> str:
        """Run doveadm against this instance; its output."""
        return _run("doveadm", str(self.state_dir), *args)

    def deliver(
        self, messages: Iterable[bytes], folder: str = "INBOX", sender: str = "mta@example.net"
    ) -> int:
        """Deliver raw messages over one LMTP session into `folder` (made when missing); how
        many were taken."""
        local, _, domain = self.user.partition("@")
        recipient = self.user if folder == "INBOX" else f"{local}+{folder}@{domain}"
        count = 0
        with smtplib.LMTP(str(self.lmtp_socket)) as lmtp:
            for raw in messages:
                lmtp.sendmail(sender, [recipient], raw)
                count += 1
        return count

    @contextlib.contextmanager
    def imap(self) -> Iterator[imaplib.IMAP4_SSL]:
        """A logged-in IMAP client, as a mail program would be."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=30)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()


def neighbouring_free_ports() -> int:
    """A free port whose next one is free too (IMAPS and STARTTLS)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two neighbouring free ports on 127.0.0.1")


@contextlib.contextmanager
def private_dovecot(state_dir: Path) -> Iterator[LocalDovecot]:
    """A Dovecot of its own, started, and destroyed after the block."""
    dovecot = LocalDovecot(state_dir, neighbouring_free_ports())
    dovecot.start()
    try:
        yield dovecot
    finally:
        dovecot.destroy()


def mailbox_table(
    dovecot: LocalDovecot,
    name: str,
    *,
    inbox: str = "INBOX",
    sent: str | None = "Sent",
    starttls: bool = False,
    extra: str = "",
) -> str:
    """A `[[mailbox]]` table of the company configuration that reads `dovecot`."""
    sent_line = f'sent = "{sent or ""}"'
    return f"""
[[mailbox]]
name = "{name}"
host = "127.0.0.1"
port = {dovecot.starttls_port if starttls else dovecot.port}
security = "{"starttls" if starttls else "tls"}"
ca_file = "{dovecot.ca_file}"
username = "{dovecot.user}"
password = "{dovecot.password}"
inbox = "{inbox}"
{sent_line}
poll_every = "5s"
{extra}
"""

"""DKIM keys made on the spot and emails signed with them, as a company's mail server would.

The public half goes where intake looks keys up (`KEEPWORD_INTAKE_DKIM_KEYS`, a table of
`selector._domainkey.domain` -> TXT record), so no test depends on DNS.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass

import dkim  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNED_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references")
"""What a typical mail server signs (Gmail's and OpenDKIM's defaults cover these)."""


@dataclass(frozen=True)
class DkimKey:
    """A signing key of `domain` under `selector`, and the TXT record that publishes it."""

    domain: str
    selector: str
    private_pem: bytes
    txt_record: str

    @property
    def dns_name(self) -> str:
        """Where the TXT record lives."""
        return f"{self.selector}._domainkey.{self.domain}"

    def sign(self, raw: bytes, headers: Iterable[str] = SIGNED_HEADERS) -> bytes:
        """`raw` with a DKIM-Signature on top, covering `headers` that the mail has."""
        present = {line.split(b":", 1)[0].strip().lower() for line in _header_lines(raw)}
        wanted = [h.encode() for h in headers if h.encode() in present]
        signature: bytes = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_pem,
            include_headers=wanted,
        )
        return signature + raw


def new_dkim_key(domain: str, selector: str = "kw1") -> DkimKey:
    """A fresh 2048-bit RSA key (a few tens of milliseconds)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    txt = f"v=DKIM1; k=rsa; p={base64.b64encode(public_der).decode()}"
    return DkimKey(domain=domain, selector=selector, private_pem=private_pem, txt_record=txt)


def key_table(*keys: DkimKey) -> str:
    """The keys as intake's `KEEPWORD_INTAKE_DKIM_KEYS` setting (JSON)."""
    return json.dumps({k.dns_name: k.txt_record for k in keys})


def _header_lines(raw: bytes) -> list[bytes]:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [line for line in head.split(b"\n") if line and not line[:1].isspace()]

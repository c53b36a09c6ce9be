"""Signed links: the credential of every action taken from an email.

A link carries a few string claims (what it acts on, who may use it), a random nonce and the
time it was signed, all signed with HMAC-SHA-256 (itsdangerous; a token signed before with its
default, HMAC-SHA-1, still reads until it expires). Each purpose ("decision",
"answer", "rating", ...) signs under its own salt, so a token of one purpose never reads as
another's. The service that honours a link records its nonce when it is used, so it works once.

    token = sign(secret, "answer", {"c": commitment_id, "a": "confirm", "p": email})
    link = read(secret, "answer", token, max_age_seconds=hours * 3600)  # or LinkRefused
    link.claims["c"], link.nonce

A page that acts on a link (POST) first shows a form carrying `csrf_token(secret, purpose,
token)`; `csrf_valid` checks it came from that page, for that link, recently.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from itsdangerous import BadSignature, Serializer, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import Signer

__all__ = ["LinkRefused", "SignedLink", "csrf_token", "csrf_valid", "read", "sign"]

NONCE = "n"  # the claim key the kit keeps for the nonce
_PURPOSE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class SignedLink:
    """What a valid token says: its purpose, its claims and its nonce (the single-use key)."""

    purpose: str
    claims: Mapping[str, str]
    nonce: str


class LinkRefused(Exception):
    """The token cannot be used: `why` is "invalid" (tampered, malformed, another purpose's)
    or "expired"."""

    def __init__(self, why: Literal["invalid", "expired"]) -> None:
        super().__init__(why)
        self.why = why


class _TokenSerializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed tokens, made for an email's links: its signer built once,
    and no attempt to compress a payload of a few short claims, which never shrinks (the two
    were half the cost of a token, and the notifier signs three an email). A compressed token
    still reads."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))

    @cached_property
    def _signer(self) -> Signer:
        return super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        return self._signer if salt is None else super().make_signer(salt)


@lru_cache(maxsize=64)  # a few purposes and one secret (two while it rotates): built once each
def _serializer(secret: str, purpose: str, kind: str) -> URLSafeTimedSerializer:
    if not _PURPOSE.fullmatch(purpose):  # the salt must not be ambiguous between purposes
        raise ValueError(f"purpose {purpose!r} must be lower-case words joined by '-'")
    return _TokenSerializer(
        secret,
        salt=f"keepword.{purpose}-{kind}.v1",
        signer_kwargs={"digest_method": hashlib.sha256},
        fallback_signers=[{"digest_method": hashlib.sha1}],  # tokens signed before the change
    )


def sign(secret: str, purpose: str, claims: Mapping[str, str]) -> str:
    """A fresh token (new nonce) for `purpose` carrying `claims`; keep claims short: the token
    travels in a URL. The key "n" is the kit's."""
    if NONCE in claims:
        raise ValueError(f"the claim key {NONCE!r} is reserved for the nonce")
    payload = {**claims, NONCE: secrets.token_hex(12)}
    return str(_serializer(secret, purpose, "link").dumps(payload))


def read(
    secret: str,
    purpose: str,
    token: str,
    *,
    max_age_seconds: int,
    required: Collection[str] = (),
) -> SignedLink:
    """The link a token signs for `purpose`, younger than `max_age_seconds`, with every
    `required` claim; else LinkRefused."""
    try:
        payload = _serializer(secret, purpose, "link").loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("invalid") from None
    if not isinstance(payload, dict) or {NONCE, *required} - payload.keys():
        raise LinkRefused("invalid")
    if not all(isinstance(value, str) for value in payload.values()):
        raise LinkRefused("invalid")
    claims = {key: value for key, value in payload.items() if key != NONCE}
    return SignedLink(purpose=purpose, claims=claims, nonce=payload[NONCE])


def _binding(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()[:32]


def csrf_token(secret: str, purpose: str, link_token: str) -> str:
    """A token for the form of the page `link_token` opens, bound to that link."""
    return str(_serializer(secret, purpose, "csrf").dumps(_binding(link_token)))


def csrf_valid(
    secret: str, purpose: str, link_token: str, token: str, *, max_age_seconds: int = 3600
) -> bool:
    """Whether `token` came from the page of `link_token`, within `max_age_seconds`."""
    try:
        bound = _serializer(secret, purpose, "csrf").loads(token, max_age=max_age_seconds)
    except BadSignature:
        return False
    return bool(bound == _binding(link_token))

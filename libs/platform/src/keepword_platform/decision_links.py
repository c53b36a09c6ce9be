"""Signed decision links: what the notifier puts in a manager's email and escalation honours.

A link names one escalation, one option and one manager, is signed with HMAC (itsdangerous,
SHA-256), expires, and carries a random nonce that escalation records when the link is used, so
it works once. The same secret signs the short-lived CSRF token of the confirmation page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_LINK_SALT = "keepword.decision-link.v1"
_CSRF_SALT = "keepword.decision-csrf.v1"


@dataclass(frozen=True, slots=True)
class DecisionClaim:
    """What a valid link says: this manager may pick this option of this escalation."""

    escalation_id: str
    option: str
    manager: str
    nonce: str


class LinkRefused(Exception):
    """The link cannot be used: `why` is "invalid" (tampered or malformed) or "expired"."""

    def __init__(self, why: Literal["invalid", "expired"]) -> None:
        super().__init__(why)
        self.why = why


def sign_decision(secret: str, *, escalation_id: str, option: str, manager: str) -> str:
    """A fresh token for one decision link."""
    claim = {"e": escalation_id, "o": option, "m": manager.lower(), "n": secrets.token_hex(12)}
    return URLSafeTimedSerializer(secret, salt=_LINK_SALT).dumps(claim)


def read_decision(secret: str, token: str, *, max_age_seconds: int) -> DecisionClaim:
    """The claim of a token, or LinkRefused."""
    try:
        claim = URLSafeTimedSerializer(secret, salt=_LINK_SALT).loads(
            token, max_age=max_age_seconds
        )
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("invalid") from None
    if not isinstance(claim, dict) or {"e", "o", "m", "n"} - claim.keys():
        raise LinkRefused("invalid")
    return DecisionClaim(
        escalation_id=str(claim["e"]),
        option=str(claim["o"]),
        manager=str(claim["m"]),
        nonce=str(claim["n"]),
    )


def decision_url(base_url: str, token: str) -> str:
    """The URL a manager clicks."""
    return f"{base_url.rstrip('/')}/decisions/{token}"


def csrf_token(secret: str, link_token: str) -> str:
    """A token for the confirmation form, bound to the link it confirms."""
    return URLSafeTimedSerializer(secret, salt=_CSRF_SALT).dumps(link_token[-32:])


def csrf_valid(secret: str, link_token: str, token: str, *, max_age_seconds: int = 3600) -> bool:
    """Whether `token` came from the confirmation page of `link_token`, recently."""
    try:
        bound = URLSafeTimedSerializer(secret, salt=_CSRF_SALT).loads(
            token, max_age=max_age_seconds
        )
    except BadSignature:
        return False
    return bool(bound == link_token[-32:])

"""Signed decision links: what the notifier puts in a manager's email and escalation honours.

A link names one escalation, one option and one manager; it is a `signed_links` token of the
purpose "decision" (HMAC, expiring, a nonce that escalation records when the link is used, so it
works once). The same secret signs the short-lived CSRF token of the confirmation page.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import signed_links
from .signed_links import LinkRefused

__all__ = [
    "DecisionClaim",
    "LinkRefused",
    "csrf_token",
    "csrf_valid",
    "decision_url",
    "read_decision",
    "sign_decision",
]

PURPOSE = "decision"


@dataclass(frozen=True, slots=True)
class DecisionClaim:
    """What a valid link says: this manager may pick this option of this escalation."""

    escalation_id: str
    option: str
    manager: str
    nonce: str


def sign_decision(secret: str, *, escalation_id: str, option: str, manager: str) -> str:
    """A fresh token for one decision link."""
    claims = {"e": escalation_id, "o": option, "m": manager.lower()}
    return signed_links.sign(secret, PURPOSE, claims)


def read_decision(secret: str, token: str, *, max_age_seconds: int) -> DecisionClaim:
    """The claim of a token, or LinkRefused."""
    link = signed_links.read(
        secret, PURPOSE, token, max_age_seconds=max_age_seconds, required=("e", "o", "m")
    )
    return DecisionClaim(
        escalation_id=link.claims["e"],
        option=link.claims["o"],
        manager=link.claims["m"],
        nonce=link.nonce,
    )


def decision_url(base_url: str, token: str) -> str:
    """The URL a manager clicks."""
    return f"{base_url.rstrip('/')}/decisions/{token}"


def csrf_token(secret: str, link_token: str) -> str:
    """A token for the confirmation form, bound to the link it confirms."""
    return signed_links.csrf_token(secret, PURPOSE, link_token)


def csrf_valid(secret: str, link_token: str, token: str, *, max_age_seconds: int = 3600) -> bool:
    """Whether `token` came from the confirmation page of `link_token`, recently."""
    return signed_links.csrf_valid(
        secret, PURPOSE, link_token, token, max_age_seconds=max_age_seconds
    )

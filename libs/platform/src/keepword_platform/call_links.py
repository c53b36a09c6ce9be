"""Signed call links: the owner in customer relations logs the call a manager decided on, from
the email that told them (the notifier signs; intake's `/calls/{token}` honours).

A `signed_links` token of the purpose "call", bound to one escalation's thread and one person of
customer relations. It carries the customer the logged call is with, as a staff message on the
phone channel needs them: their name, and their email address or, without one, their phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from keepword_events import Customer

from . import signed_links

PURPOSE: Final = "call"
REQUIRED: Final = ("t", "e", "p")


@dataclass(frozen=True, slots=True)
class CallLink:
    """What a call link says: `person` may log a call with `customer` on this thread."""

    thread_id: str
    escalation_id: str
    person: str
    customer: Customer


def sign_call(
    secret: str, *, thread_id: str, escalation_id: str, person: str, customer: Customer
) -> str:
    """A fresh token for one call link."""
    claims = {"t": thread_id, "e": escalation_id, "p": person.lower(), "w": customer.name or ""}
    if customer.email:
        claims["ce"] = str(customer.email)
    elif customer.phone:
        claims["cp"] = customer.phone
    return signed_links.sign(secret, PURPOSE, claims)


def call_url(base_url: str, token: str) -> str:
    """The URL the owner clicks."""
    return f"{base_url.rstrip('/')}/calls/{token}"


def call_link(claims: dict[str, str]) -> CallLink | None:
    """The link its claims describe, or None when they name no customer to log a call with."""
    if not (claims.get("ce") or claims.get("cp")):
        return None
    try:
        customer = Customer(
            name=claims.get("w") or None, email=claims.get("ce"), phone=claims.get("cp")
        )
    except ValueError:
        return None
    return CallLink(
        thread_id=claims["t"],
        escalation_id=claims["e"],
        person=claims["p"],
        customer=customer,
    )

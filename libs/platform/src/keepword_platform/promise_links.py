"""Signed promise links: the maker of a rejected or countered promise withdraws it or gives new
terms from the email that told them (the notifier signs; intake's `/promises/{token}` honours).

A `signed_links` token of the purpose "promise", bound to one promise, one change and the
person who made the promise; it shows the promise as `answer_links` does, and carries
production's feasible time (the default of new terms) when they countered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from keepword_events import CommitmentStatusChanged

from . import signed_links
from .answer_links import promise_claims

PURPOSE: Final = "promise"
REQUIRED: Final = ("c", "t", "a", "p", "k", "x")


class PromiseChange(StrEnum):
    """What the maker can do with a promise production could not keep as made."""

    WITHDRAW = "withdraw"
    RENEGOTIATE = "renegotiate"


@dataclass(frozen=True, slots=True)
class PromiseLink:
    """What a promise link says: `person` may make this change to this promise."""

    commitment_id: str
    thread_id: str
    change: PromiseChange
    person: str
    kind: str
    text: str
    due_at: datetime | None
    feasible_due_at: datetime | None
    customer: str


def sign_change(
    secret: str, event: CommitmentStatusChanged, change: PromiseChange, person: str
) -> str:
    """A fresh token for one promise link."""
    feasible = event.feasible_due_at.isoformat() if event.feasible_due_at else ""
    claims = {**promise_claims(event), "a": change.value, "p": person.lower(), "f": feasible}
    return signed_links.sign(secret, PURPOSE, claims)


def promise_url(base_url: str, token: str) -> str:
    """The URL the maker clicks."""
    return f"{base_url.rstrip('/')}/promises/{token}"


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def promise_link(claims: dict[str, str]) -> PromiseLink | None:
    """The link its claims describe, or None when they do not make sense."""
    try:
        return PromiseLink(
            commitment_id=claims["c"],
            thread_id=claims["t"],
            change=PromiseChange(claims["a"]),
            person=claims["p"],
            kind=claims["k"],
            text=claims["x"],
            due_at=_time(claims.get("d", "")),
            feasible_due_at=_time(claims.get("f", "")),
            customer=claims.get("w", ""),
        )
    except (KeyError, ValueError):
        return None

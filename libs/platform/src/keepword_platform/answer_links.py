"""Signed answer links: what the notifier puts in production's promise emails and intake honours.

A link is a `signed_links` token of the purpose "answer", bound to one promise, one verdict and
one person of production. It also carries what intake's page shows of the promise (its words cut
to 280 characters, its due time, who made it and for whom): intake keeps no ledger, and these are
the facts the email itself holds. The token is signed, not encrypted: it holds nothing the email
does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from keepword_events import CommitmentStatusChanged, Verdict

from . import signed_links

PURPOSE: Final = "answer"
REQUIRED: Final = ("c", "t", "v", "p")
TEXT_CHARS: Final = 280


@dataclass(frozen=True, slots=True)
class AnswerLink:
    """What an answer link says: `person` may give `verdict` to this promise."""

    commitment_id: str
    thread_id: str
    verdict: Verdict
    person: str
    kind: str
    text: str
    due_at: datetime | None
    made_by: str
    customer: str


def promise_claims(event: CommitmentStatusChanged) -> dict[str, str]:
    """What a link about a promise carries to show it: ids, words, due time, maker, customer."""
    return {
        "c": event.commitment_id,
        "t": event.thread_id,
        "k": event.kind.value,
        "x": event.text[:TEXT_CHARS],
        "d": event.due_at.isoformat() if event.due_at else "",
        "m": event.made_by.name or event.made_by.email,
        "w": (event.customer.name or "") if event.customer else "",
    }


def claims_of(event: CommitmentStatusChanged, verdict: Verdict, person: str) -> dict[str, str]:
    """The claims of one answer link in production's email about `event`."""
    return {**promise_claims(event), "v": verdict.value, "p": person.lower()}


def sign_answer(secret: str, event: CommitmentStatusChanged, verdict: Verdict, person: str) -> str:
    """A fresh token for one answer link."""
    return signed_links.sign(secret, PURPOSE, claims_of(event, verdict, person))


def answer_url(base_url: str, token: str) -> str:
    """The URL production clicks."""
    return f"{base_url.rstrip('/')}/answers/{token}"


def answer_link(claims: dict[str, str]) -> AnswerLink | None:
    """The link its claims describe, or None when they do not make sense."""
    try:
        verdict = Verdict(claims["v"])
        due_at = datetime.fromisoformat(claims["d"]) if claims.get("d") else None
    except (KeyError, ValueError):
        return None
    return AnswerLink(
        commitment_id=claims["c"],
        thread_id=claims["t"],
        verdict=verdict,
        person=claims["p"],
        kind=claims.get("k", ""),
        text=claims.get("x", ""),
        due_at=due_at,
        made_by=claims.get("m", ""),
        customer=claims.get("w", ""),
    )

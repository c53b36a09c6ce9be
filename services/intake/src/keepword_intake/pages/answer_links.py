"""Production's answer links: what they claim, and the answer a posted form makes. Pure.

A link is bound to one promise, one verdict and one person of production. It also carries what
the page shows of the promise (its words cut to 280 characters, its due time, who made it and
for whom), so that intake, which keeps no ledger, can show it: the same facts the email holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from keepword_events import CommitmentStatusChanged, Person, Role, Verdict
from pydantic import ValidationError

from keepword_intake.contract import AnswerIn, due_date_errors

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


def claims_of(event: CommitmentStatusChanged, verdict: Verdict, person: str) -> dict[str, str]:
    """The claims of one answer link in production's email about `event`."""
    return {
        "c": event.commitment_id,
        "t": event.thread_id,
        "v": verdict.value,
        "p": person.lower(),
        "k": event.kind.value,
        "x": event.text[:TEXT_CHARS],
        "d": event.due_at.isoformat() if event.due_at else "",
        "m": event.made_by.name or event.made_by.email,
        "w": (event.customer.name or "") if event.customer else "",
    }


def answer_link(claims: dict[str, str]) -> AnswerLink | None:
    """The link its claims describe, or None when they do not make sense."""
    try:
        verdict = Verdict(claims["v"])
        due_at = datetime.fromisoformat(claims["d"]) if claims.get("d") else None
    except ValueError:
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


class FormProblem(Exception):
    """The form cannot make an answer; the message says what to fix."""


def _feasible_due_at(form: dict[str, str], zone: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(form.get("feasible_date", ""))
        at = time.fromisoformat(form.get("feasible_time", ""))
    except ValueError:
        raise FormProblem("Please give the date and the time you can meet.") from None
    return datetime.combine(day, at, tzinfo=zone)


def answer_of(
    link: AnswerLink, form: dict[str, str], *, zone: ZoneInfo, name: str | None, now: datetime
) -> AnswerIn:
    """The answer the posted form gives, validated as the API validates its body."""
    feasible = _feasible_due_at(form, zone) if link.verdict is Verdict.COUNTERED else None
    if feasible is not None and feasible <= now:
        raise FormProblem("Please give a date and time in the future.")
    try:
        answer = AnswerIn(
            answered_by=Person(email=link.person, name=name, role=Role.PRODUCTION),
            verdict=link.verdict,
            note=form.get("note") or None,
            feasible_due_at=feasible,
            thread_id=link.thread_id,
        )
    except ValidationError as error:
        raise FormProblem(_plain(error)) from None
    if due_date_errors(answer, now):
        raise FormProblem("Please give a date within ten years.")
    return answer


def _plain(error: ValidationError) -> str:
    fields = {str(e["loc"][0]) if e["loc"] else "" for e in error.errors()}
    if "feasible_due_at" in fields:
        return "Please give a date and time in the future, within ten years."
    if "note" in fields:
        return "Please shorten the note to 5000 characters, in plain text."
    return "The answer could not be read; please check the form."

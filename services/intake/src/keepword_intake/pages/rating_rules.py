"""The rating page's rules, pure: what a posted form says, and whether a thread's rating may
still change (one rating per thread, changeable for a while after the first one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from keepword_events import CustomerRated
from pydantic import ValidationError

COMMENT_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Rated:
    """The thread's rating as intake last recorded it."""

    rating: int
    revision: int
    first_rated_at: datetime
    rated_at: datetime


class FormProblem(ValueError):
    """The form cannot be recorded as sent; the message says why, for the customer."""


def changeable_until(rated: Rated | None, window: timedelta) -> datetime | None:
    """Until when the rating may change; None before the first one."""
    return None if rated is None else rated.first_rated_at + window


def closed(rated: Rated | None, window: timedelta, now: datetime) -> bool:
    """The rating was given more than `window` ago: it stands."""
    until = changeable_until(rated, window)
    return until is not None and now >= until


def rating_event(
    thread_id: str, form: dict[str, str], *, before: Rated | None, now: datetime
) -> CustomerRated:
    """The event a posted form publishes (the next revision after `before`), or FormProblem."""
    choice = form.get("rating", "")
    if choice not in {"1", "2", "3", "4", "5"}:
        raise FormProblem("Please choose one answer, from 1 to 5.")
    comment = form.get("comment", "").replace("\r\n", "\n") or None
    if comment is not None and len(comment) > COMMENT_LIMIT:
        raise FormProblem(f"Please keep your words to {COMMENT_LIMIT} characters.")
    try:
        return CustomerRated(
            thread_id=thread_id,
            correlation_id=thread_id,
            rating=int(choice),
            comment=comment,
            rated_at=now,
            revision=before.revision + 1 if before else 1,
        )
    except ValidationError:
        raise FormProblem("Your words contain characters we cannot accept.") from None

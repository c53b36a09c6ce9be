"""The answer a posted form makes of production's answer link (`keepword_platform.answer_links`
says what a link claims). Pure."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from keepword_events import Person, Role, Verdict
from keepword_platform.answer_links import AnswerLink
from pydantic import ValidationError

from keepword_intake.contract import AnswerIn, due_date_errors


def local_time(at: datetime | None, zone: ZoneInfo) -> str:
    """A time as the page shows it: "Friday 4 January 2030, 17:00 (Europe/Warsaw)"."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y, %H:%M')} ({zone.key})"


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

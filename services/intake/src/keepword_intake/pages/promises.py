"""`/promises/{token}`: the maker of a rejected or countered promise withdraws it, or gives the
customer new terms, from the email that told them.

Withdrawing publishes the cancellation the API's `POST /v1/commitments/{id}/cancel` publishes;
new terms are a promise declared as `POST /v1/commitments` declares it, superseding the old one.
GET changes nothing; POST needs the page's CSRF token and acts once per promise.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from keepword_events import CommitmentKind, Customer, Person, Role
from keepword_platform.company import CompanyConfig
from keepword_platform.promise_links import (
    PURPOSE,
    REQUIRED,
    PromiseChange,
    PromiseLink,
    promise_link,
)
from keepword_platform.signed_links import SignedLink
from pydantic import ValidationError

from keepword_intake.api import Intake
from keepword_intake.commitment_routes import declare_commitment, publish_cancellation
from keepword_intake.contract import CancellationIn, CommitmentIn, due_date_errors

from . import kit, link_uses
from .answer_links import FormProblem, local_time

log = structlog.get_logger(__name__)
router = APIRouter(tags=["promise pages"], include_in_schema=False)
_TITLES = {
    PromiseChange.WITHDRAW: "Withdraw the promise",
    PromiseChange.RENEGOTIATE: "Give the customer new terms",
}
_DONE = {
    PromiseChange.WITHDRAW: "The promise is withdrawn. Please tell the customer in the thread.",
    PromiseChange.RENEGOTIATE: "The new terms are recorded. Production will be asked to "
    "confirm them; please tell the customer once they have.",
}


def _open(request: Request, token: str) -> tuple[SignedLink, PromiseLink] | HTMLResponse:
    return kit.open_as(request, PURPOSE, token, promise_link, required=REQUIRED)


async def _already(intake: Intake, signed: SignedLink, link: PromiseLink) -> HTMLResponse | None:
    return await link_uses.refusal(
        intake.db,
        signed,
        PURPOSE,
        link.commitment_id,
        title="This promise was already changed",
        detail="It was withdrawn or given new terms from another link of the same email.",
    )


def _form(
    request: Request, token: str, link: PromiseLink, status: int = 200, problem: str = ""
) -> HTMLResponse:
    company: CompanyConfig = request.app.state.runtime.company
    zone = ZoneInfo(company.company.timezone)
    feasible = link.feasible_due_at.astimezone(zone) if link.feasible_due_at else None
    return kit.page(
        "promise.html",
        status,
        title=_TITLES[link.change],
        link=link,
        due=local_time(link.due_at, zone),
        zone=company.company.timezone,
        withdraw=link.change is PromiseChange.WITHDRAW,
        feasible_date=feasible.date().isoformat() if feasible else "",
        feasible_time=feasible.strftime("%H:%M") if feasible else "",
        problem=problem,
        csrf_token=kit.form_token(request, PURPOSE, token),
    )


def _maker(company: CompanyConfig, email: str) -> Person:
    known = company.person(email)
    role = known.role if known and known.role is not Role.CUSTOMER else Role.SALES
    return Person(email=email, name=known.name if known else None, role=role)


def _action(
    link: PromiseLink, signed: SignedLink, form: dict[str, str], company: CompanyConfig
) -> dict[str, Any]:
    """What the form asks for, validated as the API validates its bodies."""
    maker = _maker(company, link.person)
    now = datetime.now(UTC)
    try:
        if link.change is PromiseChange.WITHDRAW:
            if not form.get("reason"):
                raise FormProblem("Please say in a few words why the promise is withdrawn.")
            cancel = CancellationIn(cancelled_by=maker, reason=form["reason"])
            return {"cancellation": cancel.model_dump(mode="json")}
        zone = ZoneInfo(company.company.timezone)
        due = _due(form, zone)
        if due <= now:
            raise FormProblem("Please give a date and time in the future.")
        terms = CommitmentIn(
            thread_id=link.thread_id,
            made_by=maker,
            kind=CommitmentKind(link.kind),
            text=form.get("text") or link.text,
            due_at=due,
            customer=Customer(name=link.customer) if link.customer else None,
            supersedes=link.commitment_id,
        )
    except ValidationError:
        raise FormProblem("Please check the words (plain text) and the date.") from None
    if due_date_errors(terms, now):
        raise FormProblem("Please give a date within ten years.")
    # The new promise's id comes from the link, so a retry declares the same promise.
    new_id = f"cmt-{uuid.UUID(kit.event_id_of(signed)).hex}"
    return {"terms": terms.model_dump(mode="json"), "commitment_id": new_id}


def _due(form: dict[str, str], zone: ZoneInfo) -> datetime:
    try:
        day = datetime.fromisoformat(f"{form.get('due_date', '')}T{form.get('due_time', '')}")
    except ValueError:
        raise FormProblem("Please give the date and the time of the new terms.") from None
    return day.replace(tzinfo=zone)


@router.get("/promises/{token}", response_class=HTMLResponse)
async def promise_page(request: Request, token: str) -> HTMLResponse:
    """The promise and the change the link makes, with a form; nothing changes here."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    intake: Intake = request.app.state.intake
    return await _already(intake, signed, link) or _form(request, token, link)


@router.post("/promises/{token}", response_class=HTMLResponse)
async def change_promise(request: Request, token: str) -> HTMLResponse:
    """Withdraw the promise, or declare its new terms, once."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    form = await kit.form_of(request)
    if not kit.form_valid(request, PURPOSE, token, form):
        return kit.refused("form")
    intake: Intake = request.app.state.intake
    refused = await _already(intake, signed, link)
    if refused is not None:
        return refused
    try:
        action = _action(link, signed, form, request.app.state.runtime.company)
    except FormProblem as problem:
        return _form(request, token, link, 422, str(problem))

    async def publish(stored: dict[str, Any], event_id: str) -> None:
        if "cancellation" in stored:
            await publish_cancellation(
                intake,
                CancellationIn.model_validate(stored["cancellation"]),
                commitment_id=link.commitment_id,
                thread_id=link.thread_id,
                event_id=event_id,
            )
        else:
            await declare_commitment(
                intake,
                CommitmentIn.model_validate(stored["terms"]),
                commitment_id=stored["commitment_id"],
                event_id=event_id,
            )

    outcome = await link_uses.act_once(
        intake.db, signed, subject=link.commitment_id, action=action, publish=publish
    )
    if outcome != "done":
        return kit.refused(outcome)
    log.info("promise changed from page", commitment_id=link.commitment_id, change=link.change)
    return kit.page("done.html", title="Recorded", detail=_DONE[link.change])

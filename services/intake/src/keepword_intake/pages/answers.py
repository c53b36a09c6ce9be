"""`/answers/{token}`: production confirms, rejects or counters a promise from its email.

GET shows the promise and the form, and changes nothing (mail scanners open links). POST, with
the page's CSRF token, publishes the answer through the same function as the API route, once
per link (`link_uses`); a promise already answered from one of its links refuses the others.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from keepword_events import Verdict
from keepword_platform.answer_links import PURPOSE, REQUIRED, AnswerLink, answer_link
from keepword_platform.company import CompanyConfig
from keepword_platform.signed_links import SignedLink

from keepword_intake.api import Intake
from keepword_intake.commitment_routes import publish_answer
from keepword_intake.contract import AnswerIn

from . import kit, link_uses
from .answer_links import FormProblem, answer_of

log = structlog.get_logger(__name__)
router = APIRouter(tags=["answer pages"], include_in_schema=False)
_BUTTONS = {
    Verdict.CONFIRMED: "Confirm the promise",
    Verdict.REJECTED: "Reject the promise",
    Verdict.COUNTERED: "Offer this time instead",
}
_DONE = {
    Verdict.CONFIRMED: "You confirmed the promise. The person who made it will rely on it.",
    Verdict.REJECTED: "You rejected the promise. The person who made it will be told today.",
    Verdict.COUNTERED: "You offered another time. The person who made it will be told today.",
}


def _company(request: Request) -> CompanyConfig:
    company: CompanyConfig = request.app.state.runtime.company
    return company


def _open(request: Request, token: str) -> tuple[SignedLink, AnswerLink] | HTMLResponse:
    return kit.open_as(request, PURPOSE, token, answer_link, required=REQUIRED)


async def _already(request: Request, signed: SignedLink, link: AnswerLink) -> HTMLResponse | None:
    intake: Intake = request.app.state.intake
    return await link_uses.refusal(
        intake.db,
        signed,
        PURPOSE,
        link.commitment_id,
        title="This promise was already answered",
        detail="An answer was recorded from another link of the same email.",
    )


def _form(
    request: Request, token: str, link: AnswerLink, status: int = 200, problem: str = ""
) -> HTMLResponse:
    zone = _company(request).company.timezone
    due = link.due_at.astimezone(ZoneInfo(zone)) if link.due_at else None
    return kit.page(
        "answer.html",
        status,
        title=_BUTTONS[link.verdict],
        link=link,
        due=due,
        zone=zone,
        button=_BUTTONS[link.verdict],
        countered=link.verdict is Verdict.COUNTERED,
        problem=problem,
        csrf_token=kit.form_token(request, PURPOSE, token),
    )


@router.get("/answers/{token}", response_class=HTMLResponse)
async def answer_page(request: Request, token: str) -> HTMLResponse:
    """The promise and the answer the link gives, with a form; nothing changes here."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    return await _already(request, signed, link) or _form(request, token, link)


@router.post("/answers/{token}", response_class=HTMLResponse)
async def record_answer(request: Request, token: str) -> HTMLResponse:
    """Publish the answer the link gives, once."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    form = await kit.form_of(request)
    if not kit.form_valid(request, PURPOSE, token, form):
        return kit.refused("form")
    refused = await _already(request, signed, link)
    if refused is not None:
        return refused
    company = _company(request)
    person = company.person(link.person)
    try:
        answer = answer_of(
            link,
            form,
            zone=ZoneInfo(company.company.timezone),
            name=person.name if person else None,
            now=datetime.now(UTC),
        )
    except FormProblem as problem:
        return _form(request, token, link, 422, str(problem))
    intake: Intake = request.app.state.intake

    async def publish(action: dict[str, Any], event_id: str) -> None:
        await publish_answer(
            intake,
            AnswerIn.model_validate(action),
            commitment_id=link.commitment_id,
            thread_id=link.thread_id,
            event_id=event_id,
        )

    outcome = await link_uses.act_once(
        intake.db,
        signed,
        subject=link.commitment_id,
        action=answer.model_dump(mode="json"),
        publish=publish,
    )
    if outcome == "used":
        return kit.refused("used")
    if outcome == "unavailable":
        return kit.refused("unavailable")
    log.info("promise answered from page", commitment_id=link.commitment_id)
    return kit.page("done.html", title="Answer recorded", detail=_DONE[link.verdict])

"""`/calls/{token}`: the owner in customer relations logs the call a manager decided on, from
the email that told them of the decision.

The log is the staff message on the phone channel `POST /v1/messages` publishes (the same
function), so escalation settles the call as it settles one logged through the API. GET changes
nothing; POST needs the page's CSRF token and acts once per link.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from keepword_events import Channel, Direction, Person, Role
from keepword_platform.call_links import PURPOSE, REQUIRED, CallLink, call_link
from keepword_platform.company import CompanyConfig
from keepword_platform.signed_links import SignedLink
from pydantic import ValidationError

from keepword_intake import facts
from keepword_intake.api import Intake
from keepword_intake.contract import MessageIn
from keepword_intake.message_routes import publish_message

from . import kit, link_uses

log = structlog.get_logger(__name__)
router = APIRouter(tags=["call pages"], include_in_schema=False)


def _open(request: Request, token: str) -> tuple[SignedLink, CallLink] | HTMLResponse:
    return kit.open_as(request, PURPOSE, token, call_link, required=REQUIRED)


def _form(
    request: Request, token: str, link: CallLink, status: int = 200, problem: str = ""
) -> HTMLResponse:
    return kit.page(
        "call.html",
        status,
        title="Log your call",
        customer=link.customer.name or "the customer",
        problem=problem,
        csrf_token=kit.form_token(request, PURPOSE, token),
    )


def _call(
    link: CallLink, signed: SignedLink, form: dict[str, str], company: CompanyConfig
) -> dict[str, Any]:
    if not form.get("summary"):
        raise ValueError("Please say in a few words what you agreed with the customer.")
    known = company.person(link.person)
    author = Person(
        email=link.person,
        name=known.name if known else None,
        role=known.role if known and known.role is not Role.CUSTOMER else Role.SERVICE,
    )
    try:
        message = MessageIn(
            direction=Direction.OUTBOUND,
            channel=Channel.PHONE,
            thread_id=link.thread_id,
            customer=link.customer,
            author=author,
            body=form["summary"],
            sent_at=datetime.now(UTC),
        )
    except ValidationError:
        raise ValueError("Please write the summary as plain text.") from None
    # Ids from the link, so a retry publishes the same message under the same event id.
    event_id = kit.event_id_of(signed)
    ids = facts.MessageIds(
        thread_id=link.thread_id, message_id=f"msg-{uuid.UUID(event_id).hex}", event_id=event_id
    )
    return {"message": message.model_dump(mode="json"), "ids": ids.as_json()}


@router.get("/calls/{token}", response_class=HTMLResponse)
async def call_page(request: Request, token: str) -> HTMLResponse:
    """A form to log the call; nothing changes here."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    intake: Intake = request.app.state.intake
    use = await link_uses.use_of(intake.db, signed.nonce)
    if use is not None and use.done:
        return kit.refused("used")
    return _form(request, token, link)


@router.post("/calls/{token}", response_class=HTMLResponse)
async def log_call(request: Request, token: str) -> HTMLResponse:
    """Publish the call as a staff message on the phone channel, once."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    signed, link = opened
    form = await kit.form_of(request)
    if not kit.form_valid(request, PURPOSE, token, form):
        return kit.refused("form")
    try:
        action = _call(link, signed, form, request.app.state.runtime.company)
    except ValueError as problem:
        return _form(request, token, link, 422, str(problem))
    intake: Intake = request.app.state.intake

    async def publish(stored: dict[str, Any], _event_id: str) -> None:
        ids = facts.MessageIds(**stored["ids"])
        await publish_message(intake, MessageIn.model_validate(stored["message"]), ids)

    outcome = await link_uses.act_once(
        intake.db, signed, subject=link.thread_id, action=action, publish=publish
    )
    if outcome != "done":
        return kit.refused(outcome)
    log.info("call logged from page", thread_id=link.thread_id, escalation_id=link.escalation_id)
    return kit.page(
        "done.html",
        title="Call logged",
        detail="Thank you. The call is in the thread, and the escalation can close.",
    )

"""`/feedback/{token}`: the customer rates how well we kept our word, from the feedback email.

GET shows the five answers (the one the link names chosen) and a comment box, and changes
nothing (mail scanners open links). POST, with the page's CSRF token, publishes
`CustomerRated` and answers once Kafka has it. Unlike the other pages' links these are not
single use: one rating per thread, which the customer may change (a new revision) until
`[feedback] changeable_for` after the first; after that the page says the rating stands.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from keepword_platform.company import CompanyConfig
from keepword_platform.rating_links import PURPOSE, RATING_WORDS, RatingClaim, read_rating
from keepword_platform.settings import KeepwordSettings
from keepword_platform.signed_links import LinkRefused

from keepword_intake.api import Intake
from keepword_intake.publishing import BrokerUnavailable, EventTooLarge

from . import kit, rating_store
from .rating_rules import COMMENT_LIMIT, FormProblem, Rated, changeable_until, closed, rating_event

log = structlog.get_logger(__name__)
router = APIRouter(tags=["rating pages"], include_in_schema=False)


def _company(request: Request) -> CompanyConfig:
    company: CompanyConfig = request.app.state.runtime.company
    return company


def _open(request: Request, token: str) -> RatingClaim | HTMLResponse:
    settings: KeepwordSettings = request.app.state.runtime.settings
    valid_for = _company(request).feedback.links_valid_for
    try:
        return read_rating(
            settings.link_secret, token, max_age_seconds=int(valid_for.total_seconds())
        )
    except LinkRefused as bad:
        return kit.refused(bad.why)


def _when(request: Request, moment: datetime) -> str:
    zone = _company(request).company.timezone
    return f"{moment.astimezone(ZoneInfo(zone)):%A %-d %B %Y at %H:%M} ({zone})"


def _stands(request: Request, rated: Rated) -> HTMLResponse:
    return kit.refused(
        "closed",
        title="Your answer stands",
        detail=f"You answered {rated.rating} ({RATING_WORDS[rated.rating]}) on "
        f"{_when(request, rated.first_rated_at)}. It can no longer be changed. Thank you.",
    )


def _form(
    request: Request,
    token: str,
    *,
    chosen: int | None,
    rated: Rated | None,
    comment: str = "",
    status: int = 200,
    problem: str = "",
) -> HTMLResponse:
    window = _company(request).feedback.changeable_for
    until = changeable_until(rated, window)
    return kit.page(
        "rating.html",
        status,
        title="How well did we keep our word?",
        choices=list(RATING_WORDS.items()),
        chosen=chosen,
        rated=rated,
        rated_words=RATING_WORDS[rated.rating] if rated else None,
        until=_when(request, until) if until else None,
        comment=comment,
        comment_limit=COMMENT_LIMIT,
        problem=problem,
        csrf_token=kit.form_token(request, PURPOSE, token),
    )


@router.get("/feedback/{token}", response_class=HTMLResponse)
async def rating_page(request: Request, token: str) -> HTMLResponse:
    """The question, the link's answer chosen, and a comment box; nothing changes here."""
    claim = _open(request, token)
    if isinstance(claim, HTMLResponse):
        return claim
    intake: Intake = request.app.state.intake
    rated = await rating_store.rated(intake.db, claim.thread_id)
    if closed(rated, _company(request).feedback.changeable_for, datetime.now(UTC)):
        assert rated is not None
        return _stands(request, rated)
    return _form(request, token, chosen=claim.rating, rated=rated)


@router.post("/feedback/{token}", response_class=HTMLResponse)
async def record_rating(request: Request, token: str) -> HTMLResponse:
    """Publish the customer's rating (a new revision if they change it), once Kafka has it."""
    claim = _open(request, token)
    if isinstance(claim, HTMLResponse):
        return claim
    form = await kit.form_of(request)
    if not kit.form_valid(request, PURPOSE, token, form):
        return kit.refused("form")
    intake: Intake = request.app.state.intake
    window = _company(request).feedback.changeable_for
    now = datetime.now(UTC)
    try:
        async with intake.db.acquire() as conn, conn.transaction():
            before = await rating_store.hold(conn, claim.thread_id)
            if closed(before, window, now):
                assert before is not None
                return _stands(request, before)
            try:
                event = rating_event(claim.thread_id, form, before=before, now=now)
            except FormProblem as problem:
                chosen = form.get("rating", "")
                return _form(
                    request,
                    token,
                    chosen=int(chosen) if chosen in {"1", "2", "3", "4", "5"} else claim.rating,
                    rated=before,
                    comment=form.get("comment", "")[:COMMENT_LIMIT],
                    status=422,
                    problem=str(problem),
                )
            # Recorded only once Kafka has it: a failure leaves nothing behind to retry.
            await intake.publisher.publish(event, str(uuid.uuid4()), time_=now)
            await rating_store.record(conn, event)
    except (BrokerUnavailable, EventTooLarge):
        log.warning("rating not published", thread_id=claim.thread_id)
        return kit.refused("unavailable")
    log.info("customer rated", thread_id=claim.thread_id, revision=event.revision)
    until = (before.first_rated_at if before else now) + window
    thanks = "Thank you for your words. " if event.comment else ""
    return kit.page(
        "done.html",
        title="Thank you",
        detail=f"We recorded your answer: {event.rating} ({RATING_WORDS[event.rating]}). "
        f"{thanks}You can change it until {_when(request, until)}.",
    )

"""Decision pages: the signed links in managers' emails land here.

GET shows what the link would decide and changes nothing (mail scanners open links); POST, with
the page's CSRF token, records the decision. Tampered, expired and reused links, and links to
escalations already resolved, get a page that says so.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import asyncpg
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from keepword_events import OptionKind, Person
from keepword_platform.database import Connection
from keepword_platform.decision_links import (
    DecisionClaim,
    LinkRefused,
    csrf_token,
    csrf_valid,
    read_decision,
)
from keepword_platform.messaging import store
from keepword_platform.messaging.consumer import outgoing
from keepword_platform.settings import KeepwordSettings

from . import repository
from .escalations import DecisionRefused, Escalation, Refusal, refusal
from .watch import SCHEMA, SOURCE, Watch

log = structlog.get_logger(__name__)
router = APIRouter(tags=["decision pages"], include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token must not leak to other sites
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_REFUSALS = {
    "invalid": (400, "This link is not valid", "The link was changed or is incomplete."),
    "expired": (410, "This link has expired", "Decision links work for a limited time."),
    "used": (409, "This link was already used", "A decision was already recorded with it."),
    "closed": (409, "This escalation is closed", "It was resolved; no decision is needed."),
    "not offered": (409, "This option is no longer offered", "The escalation changed."),
    "not yours": (403, "This link is for another manager", "It was sent to someone else."),
}


def _page(template: str, status: int = 200, **values: object) -> HTMLResponse:
    html = _templates.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _refused(why: str) -> HTMLResponse:
    status, title, detail = _REFUSALS[why]
    return _page("refused.html", status, title=title, detail=detail)


async def _check(
    request: Request, token: str, conn: Connection
) -> tuple[DecisionClaim, Escalation] | HTMLResponse:
    settings: KeepwordSettings = request.app.state.runtime.settings
    try:
        claim = read_decision(
            settings.link_secret, token, max_age_seconds=settings.decision_link_hours * 3600
        )
    except LinkRefused as bad_link:
        return _refused(bad_link.why)
    used = await conn.fetchval(
        "SELECT true FROM escalation.used_decision_links WHERE nonce = $1", claim.nonce
    )
    if used:
        return _refused("used")
    escalation = await repository.load_escalation(conn, claim.escalation_id)
    if escalation is None:
        return _refused(Refusal.UNKNOWN)
    refused = refusal(escalation, option=claim.option, by=claim.manager)
    if refused is not None:  # the page says early what deciding would say
        return _refused(refused.why)
    return claim, escalation


@router.get("/decisions/{token}", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str) -> HTMLResponse:
    """What the link would decide, and a button; nothing changes here."""
    pool: asyncpg.Pool = request.app.state.runtime.db
    async with pool.acquire() as conn:
        checked = await _check(request, token, conn)
    if isinstance(checked, HTMLResponse):
        return checked
    claim, escalation = checked
    option = next(o for o in escalation.options if o.kind.value == claim.option)
    settings: KeepwordSettings = request.app.state.runtime.settings
    return _page(
        "confirm.html",
        title="Confirm your decision",
        option=option,
        escalation=escalation,
        csrf_token=csrf_token(settings.link_secret, token),
    )


@router.post("/decisions/{token}", response_class=HTMLResponse)
async def record_decision(request: Request, token: str) -> HTMLResponse:
    """Record the decision the link names, once."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    settings: KeepwordSettings = request.app.state.runtime.settings
    if not csrf_valid(settings.link_secret, token, (form.get("csrf_token") or [""])[0]):
        return _page(
            "refused.html",
            403,
            title="Please confirm from the decision page",
            detail="The form is missing its security token, or it is too old.",
        )
    note = (form.get("note") or [""])[0].strip() or None
    pool: asyncpg.Pool = request.app.state.runtime.db
    watch: Watch = request.app.state.runtime.extras["watch"]
    async with pool.acquire() as conn, conn.transaction():
        checked = await _check(request, token, conn)
        if isinstance(checked, HTMLResponse):
            return checked
        claim, _ = checked
        inserted = await conn.fetchval(
            """INSERT INTO escalation.used_decision_links (nonce, escalation_id, option, manager)
               VALUES ($1, $2, $3, $4) ON CONFLICT (nonce) DO NOTHING RETURNING true""",
            claim.nonce,
            claim.escalation_id,
            claim.option,
            claim.manager,
        )
        if not inserted:  # a double click racing itself
            return _refused("used")
        manager = request.app.state.runtime.company.person(claim.manager)
        person = Person(
            email=claim.manager,
            name=manager.name if manager else None,
            role=manager.role if manager else "management",
        )
        try:
            caused = await watch.decide(
                conn,
                claim.escalation_id,
                OptionKind(claim.option),
                person,
                note[:2000] if note else None,
            )
        except DecisionRefused as refused:
            return _refused(refused.why)
        await store.enqueue(conn, SCHEMA, [outgoing(e, SOURCE) for e in caused])
    log.info("decision recorded from page", escalation_id=claim.escalation_id, option=claim.option)
    return _page(
        "done.html",
        title="Decision recorded",
        option=claim.option,
        escalation_id=claim.escalation_id,
    )

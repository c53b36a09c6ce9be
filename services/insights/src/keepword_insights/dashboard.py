"""The dashboard's pages: the indices as charts and tables for managers, each number a link to
the threads behind it, filtered by period and team with a plain GET form.

A manager signs in from the link in their weekly report (/dashboard/sign-in/{token} opens a
session and redirects here); a tool may send an API key made for `read`. Without either, every
page is a 401 that says where to sign in. The pages change nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from keepword_platform.service import Runtime

from . import dashboard_repository
from .dashboard_auth import Refused, Viewer, manager_of_link, open_session, viewer_of
from .dashboard_charts import draw_all
from .dashboard_figures import GAP_COLUMNS, Figures, figures, hours_label, percent
from .dashboard_filters import TEAMS, FilterError, Filters, filters_of
from .reading import clock_of
from .settings import InsightsSettings

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
THREADS_LISTED = 500  # a page a person reads; the count above it says how many there are
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the sign-in token must not leak to other sites
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def _page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _refused(refused: Refused) -> HTMLResponse:
    page = _page("dashboard_refused.html", refused.status, refused=refused)
    if refused.status == 401:
        page.headers["WWW-Authenticate"] = 'Bearer realm="keepword-dashboard"'
    return page


async def _asked(
    request: Request,
) -> tuple[Runtime, Viewer, Filters, str | None] | HTMLResponse:
    """Who asks and for what; the 401 page when nobody signed in."""
    viewer = await viewer_of(request)
    if isinstance(viewer, Refused):
        return _refused(viewer)
    runtime: Runtime = request.app.state.runtime
    clock = clock_of(runtime.company, datetime.now(UTC))
    today = clock.now.astimezone(clock.calendar.zone).date()
    query = dict(request.query_params)
    try:
        return runtime, viewer, filters_of(query, today, clock.calendar.zone), None
    except FilterError as bad:
        return runtime, viewer, filters_of({}, today, clock.calendar.zone), str(bad)


async def _figures(runtime: Runtime, filters: Filters) -> Figures:
    pool: asyncpg.Pool = runtime.db
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        found = await dashboard_repository.facts_of(conn, filters.period())
    clock = clock_of(runtime.company, datetime.now(UTC))
    # Business time is computed wait by wait: off the event loop, like the drawing.
    return await asyncio.to_thread(figures, found.waits, found.promises, found.escalations, clock)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    """The charts and their tables for the period and team asked for."""
    asked = await _asked(request)
    if isinstance(asked, HTMLResponse):
        return asked
    runtime, viewer, filters, error = asked
    found = await _figures(runtime, filters)
    charts = await asyncio.to_thread(draw_all, found)
    return _page(
        "dashboard.html",
        422 if error else 200,
        title="Dashboard",
        viewer=viewer,
        filters=filters,
        error=error,
        teams=TEAMS,
        found=found,
        charts=charts,
        gap_columns=GAP_COLUMNS,
        hours_label=hours_label,
        percent=percent,
        company=runtime.company.company.name,
    )


@router.get("/threads", response_class=HTMLResponse)
async def threads(request: Request) -> HTMLResponse:
    """The threads behind one number of the dashboard (`cell`, for the same filters)."""
    asked = await _asked(request)
    if isinstance(asked, HTMLResponse):
        return asked
    runtime, viewer, filters, error = asked
    found = await _figures(runtime, filters)
    cell = None if error else found.cell(request.query_params.get("cell", ""))
    if cell is None:
        return _page(
            "dashboard_refused.html",
            404,
            refused=Refused(404, "No such number", "Go back to the dashboard and pick one."),
            back=f"/dashboard?{filters.query()}",
        )
    pool: asyncpg.Pool = runtime.db
    async with pool.acquire() as conn:
        lines = await dashboard_repository.threads(conn, cell.thread_ids[:THREADS_LISTED])
    return _page(
        "dashboard_threads.html",
        title="Threads",
        viewer=viewer,
        filters=filters,
        cell=cell,
        what=describe(found, cell.key),
        lines=lines,
        threads=len(cell.thread_ids),
        zone=filters.zone,
        back=f"/dashboard?{filters.query()}",
    )


@router.get("/sign-in/{token}")
async def sign_in(request: Request, token: str) -> Response:
    """Open a session from a dashboard link, and go to the dashboard."""
    runtime: Runtime = request.app.state.runtime
    settings: InsightsSettings = runtime.settings  # type: ignore[assignment]
    manager = manager_of_link(settings, runtime.company, token)
    if isinstance(manager, Refused):
        return _refused(manager)
    response = RedirectResponse("/dashboard", status_code=303, headers=_HEADERS)
    open_session(response, settings, manager)
    log.info("dashboard session opened")  # the address is personal data: not logged
    return response


_OUTCOMES = {"kept": "kept", "broken": "broken"}


def describe(found: Figures, key: str) -> str:
    """What the threads of a cell are, in words."""
    kind, *parts = key.split(":")
    if kind == "reply":
        if parts[0] == "all":
            return "First replies"
        if parts[0] == "sla":
            return "First replies within the SLA"
        return f"First replies that took {found.reply_buckets[int(parts[0])].label}"
    if kind == "promise":
        team, week, outcome = parts
        return f"Promises made by {team} in {week}, {_OUTCOMES.get(outcome, outcome)}"
    if kind == "escalation":
        rule, level = parts
        return f"Escalations opened for {rule.replace('_', ' ')}, highest level {level}"
    if kind == "gap":
        team, column = parts
        who = "all teams" if team == "all" else team
        return f"Promises by {who}: {column}"
    return key

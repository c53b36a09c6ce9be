"""What every public page of intake shares: templates, safe headers, signed links, forms.

A page opened from an email reads its link with `open_link` (a refused link becomes the
refused page), shows a form carrying `form_token`, and on POST checks `form_valid` before it
acts once through `link_uses.act_once`. GET never changes anything: mail scanners open links.
Templates live in `pages/templates` and extend `base.html` (accessible defaults, no script).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from keepword_platform import signed_links
from keepword_platform.settings import KeepwordSettings
from keepword_platform.signed_links import LinkRefused, SignedLink

__all__ = [
    "HEADERS",
    "REFUSALS",
    "event_id_of",
    "form_of",
    "form_token",
    "form_valid",
    "open_link",
    "page",
    "refused",
]

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token in the URL must not leak to other sites
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
# why -> (status, title, detail); a page may pass its own title and detail for its own reasons.
REFUSALS = {
    "invalid": (400, "This link is not valid", "The link was changed or is incomplete."),
    "expired": (410, "This link has expired", "Links in our emails work for a limited time."),
    "used": (409, "This link was already used", "What it asked for was already recorded."),
    "form": (
        403,
        "Please use the form on the page",
        "The form is missing its security token, or it is too old. Open the link again.",
    ),
    "closed": (409, "This is already settled", "Nothing more is needed from this link."),
    "unavailable": (
        503,
        "We could not record it just now",
        "Please open the link again in a minute and send the form once more.",
    ),
}
_EVENT_IDS = uuid.UUID("6f1c2b1e-6a57-4d8e-9a43-5f0d1c7e2a10")  # namespace of link events


def page(template: str, status: int = 200, **values: object) -> HTMLResponse:
    """`template` rendered with `values`, with the headers every public page carries."""
    html = _templates.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused(why: str, *, title: str | None = None, detail: str | None = None) -> HTMLResponse:
    """The page that says a link cannot be used, and why (a key of REFUSALS)."""
    status, default_title, default_detail = REFUSALS[why]
    return page(
        "refused.html", status, title=title or default_title, detail=detail or default_detail
    )


def _secret(request: Request) -> str:
    settings: KeepwordSettings = request.app.state.runtime.settings
    return settings.link_secret


def open_link(
    request: Request,
    purpose: str,
    token: str,
    *,
    max_age_seconds: int,
    required: Collection[str] = (),
) -> SignedLink | HTMLResponse:
    """The link `token` signs for `purpose`, or the refused page (invalid or expired)."""
    try:
        return signed_links.read(
            _secret(request), purpose, token, max_age_seconds=max_age_seconds, required=required
        )
    except LinkRefused as bad:
        return refused(bad.why)


Claims = TypeVar("Claims")


def open_as(
    request: Request,
    purpose: str,
    token: str,
    parse: Callable[[dict[str, str]], Claims | None],
    *,
    required: Collection[str] = (),
) -> tuple[SignedLink, Claims] | HTMLResponse:
    """The link `token` signs for `purpose` (valid `answer_link_hours`) and its claims read by
    `parse` (None: malformed), or the refused page."""
    settings: KeepwordSettings = request.app.state.runtime.settings
    hours = settings.answer_link_hours
    opened = open_link(request, purpose, token, max_age_seconds=hours * 3600, required=required)
    if isinstance(opened, HTMLResponse):
        return opened
    claims = parse(dict(opened.claims))
    return (opened, claims) if claims is not None else refused("invalid")


def form_token(request: Request, purpose: str, token: str) -> str:
    """The CSRF token the page's form carries as `csrf_token`."""
    return signed_links.csrf_token(_secret(request), purpose, token)


def form_valid(request: Request, purpose: str, token: str, form: dict[str, str]) -> bool:
    """Whether the posted form came from this link's page, within the hour."""
    return signed_links.csrf_valid(_secret(request), purpose, token, form.get("csrf_token", ""))


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each), trimmed."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {name: values[0].strip() for name, values in fields.items() if values}


def event_id_of(link: SignedLink) -> str:
    """The id of the event a link's use publishes: the same for every retry of that link."""
    return str(uuid.uuid5(_EVENT_IDS, f"{link.purpose}:{link.nonce}"))

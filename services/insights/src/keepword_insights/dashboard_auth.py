"""Who may see the dashboard: a manager signed in from the link in their email (a session
cookie), or a tool with an API key made for `read`.

The link (`keepword_platform.dashboard_links`) is read once, at /dashboard/sign-in/{token}; it
leaves a session cookie signed with the same link secret (itsdangerous, its own salt, so a
cookie never reads as a link nor a link as a cookie). The cookie is HttpOnly, SameSite=Lax,
Secure when the dashboard's public URL is https, and expires with the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from keepword_events import Role
from keepword_platform.auth.dependencies import authenticator_of
from keepword_platform.auth.grants import Scope
from keepword_platform.company import CompanyConfig
from keepword_platform.dashboard_links import LinkRefused, read_dashboard
from keepword_platform.problems import Problem
from keepword_platform.service import Runtime
from starlette.requests import Request
from starlette.responses import Response

from .settings import InsightsSettings

COOKIE = "keepword_dashboard"
_SALT = "keepword.dashboard-session.v1"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: a manager (by address) or an API key (by name)."""

    who: str
    by: Literal["session", "api key"]


@dataclass(frozen=True, slots=True)
class Refused:
    """Why nobody is let in: the page says it, with this status."""

    status: int
    title: str
    detail: str


NOT_SIGNED_IN = Refused(
    401,
    "Sign in from your email",
    "The dashboard opens from the link in your weekly report email. Open that link again "
    "(it works for a week), or ask for a new report.",
)


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def session_seconds(settings: InsightsSettings) -> int:
    """How long a session lasts after signing in."""
    return settings.dashboard_session_hours * 3600


def session_value(settings: InsightsSettings, manager: str) -> str:
    """The signed value of a session cookie for `manager`."""
    return str(_serializer(settings.link_secret).dumps({"m": manager}))


def session_manager(settings: InsightsSettings, value: str) -> str | None:
    """The manager a session cookie value names, if it is valid and not expired."""
    try:
        payload = _serializer(settings.link_secret).loads(value, max_age=session_seconds(settings))
    except (BadSignature, SignatureExpired):
        return None
    manager = payload.get("m") if isinstance(payload, dict) else None
    return manager if isinstance(manager, str) and manager else None


def is_manager(company: CompanyConfig, email: str) -> bool:
    """Whether the company's configuration lists `email` as a manager (today, not only when
    the link was sent)."""
    person = company.person(email)
    return person is not None and (person.role is Role.MANAGEMENT or person.level is not None)


def manager_of_link(
    settings: InsightsSettings, company: CompanyConfig, token: str
) -> str | Refused:
    """The manager a dashboard link signs in, or why not."""
    try:
        claim = read_dashboard(
            settings.link_secret, token, max_age_seconds=settings.dashboard_link_hours * 3600
        )
    except LinkRefused as refused:
        if refused.why == "expired":
            return Refused(
                410,
                "This link has expired",
                "Dashboard links work for a limited time: use the link of your newest report.",
            )
        return Refused(400, "This link is not valid", "The link was changed or is incomplete.")
    if not is_manager(company, claim.manager):
        return Refused(403, "This link is not for a manager", "Ask an administrator.")
    return claim.manager


def open_session(response: Response, settings: InsightsSettings, manager: str) -> None:
    """Set the session cookie of `manager` on `response`."""
    response.set_cookie(
        COOKIE,
        session_value(settings, manager),
        max_age=session_seconds(settings),
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=urlsplit(settings.insights_public_url).scheme.lower() == "https",
    )


async def viewer_of(request: Request) -> Viewer | Refused:
    """Who the request comes from: an API key in the Authorization header (it must be made for
    `read`), else the session cookie of a manager still listed as one."""
    runtime: Runtime = request.app.state.runtime
    settings: InsightsSettings = runtime.settings  # type: ignore[assignment]
    header = request.headers.get("authorization")
    if header:
        try:
            grant = await authenticator_of(runtime).grant_of(header)
        except Problem as problem:
            return Refused(401, "This API key is not accepted", problem.detail)
        if not grant.allows(Scope.READ):
            return Refused(403, "This API key is not made for reading", "Use a `read` key.")
        return Viewer(grant.name, "api key")
    value = request.cookies.get(COOKIE)
    manager = session_manager(settings, value) if value else None
    if manager is None or not is_manager(runtime.company, manager):
        return NOT_SIGNED_IN
    return Viewer(manager, "session")

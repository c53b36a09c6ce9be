"""Dashboard links: what the weekly report puts in a manager's email and insights honours.

A link names one manager; it is a `signed_links` token of the purpose "dashboard" (HMAC,
expiring after `KEEPWORD_DASHBOARD_LINK_HOURS`). It only lets the manager read the indices, so
unlike a decision link it is not single use: the same email opens the dashboard all week.

    url = dashboard_link(settings.link_secret, settings.insights_public_url, "ana@example.com")
"""

from __future__ import annotations

from dataclasses import dataclass

from . import signed_links
from .signed_links import LinkRefused

__all__ = [
    "PURPOSE",
    "DashboardClaim",
    "LinkRefused",
    "dashboard_link",
    "dashboard_url",
    "read_dashboard",
    "sign_dashboard",
]

PURPOSE = "dashboard"


@dataclass(frozen=True, slots=True)
class DashboardClaim:
    """What a valid link says: this manager may read the dashboard."""

    manager: str


def sign_dashboard(secret: str, *, manager: str) -> str:
    """A fresh token for one manager's dashboard link."""
    return signed_links.sign(secret, PURPOSE, {"m": manager.strip().lower()})


def read_dashboard(secret: str, token: str, *, max_age_seconds: int) -> DashboardClaim:
    """The claim of a token, or LinkRefused."""
    link = signed_links.read(
        secret, PURPOSE, token, max_age_seconds=max_age_seconds, required=("m",)
    )
    if not link.claims["m"]:
        raise LinkRefused("invalid")
    return DashboardClaim(manager=link.claims["m"])


def dashboard_url(base_url: str, token: str) -> str:
    """The URL a manager clicks: the sign-in page, which opens a session and shows the
    dashboard."""
    return f"{base_url.rstrip('/')}/dashboard/sign-in/{token}"


def dashboard_link(secret: str, base_url: str, manager: str) -> str:
    """The signed dashboard link for `manager`'s email (base_url: KEEPWORD_INSIGHTS_PUBLIC_URL)."""
    return dashboard_url(base_url, sign_dashboard(secret, manager=manager))

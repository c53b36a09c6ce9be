"""Dashboard links: a manager, signed; tampered, foreign or expired ones refused."""

from __future__ import annotations

import pytest
from keepword_platform import signed_links
from keepword_platform.dashboard_links import (
    LinkRefused,
    dashboard_link,
    read_dashboard,
    sign_dashboard,
)

SECRET = "a-test-secret-of-thirty-two-bytes!"


def test_a_link_reads_back_as_signed_for_the_manager() -> None:
    url = dashboard_link(SECRET, "https://insights.example/", " Ana@Example.com ")
    prefix = "https://insights.example/dashboard/sign-in/"
    assert url.startswith(prefix)
    claim = read_dashboard(SECRET, url.removeprefix(prefix), max_age_seconds=60)
    assert claim.manager == "ana@example.com"


def test_tampered_foreign_and_empty_links_are_refused() -> None:
    token = sign_dashboard(SECRET, manager="ana@example.com")
    for bad in (
        token[:-2] + "xx",
        sign_dashboard("another-secret-of-32-bytes-long!!", manager="ana@example.com"),
        signed_links.sign(SECRET, "decision", {"m": "ana@example.com"}),
        signed_links.sign(SECRET, "dashboard", {"m": ""}),
        signed_links.sign(SECRET, "dashboard", {"x": "ana@example.com"}),
    ):
        with pytest.raises(LinkRefused) as refused:
            read_dashboard(SECRET, bad, max_age_seconds=60)
        assert refused.value.why == "invalid"


def test_an_old_link_is_expired() -> None:
    token = sign_dashboard(SECRET, manager="ana@example.com")
    with pytest.raises(LinkRefused) as refused:
        read_dashboard(SECRET, token, max_age_seconds=-1)
    assert refused.value.why == "expired"

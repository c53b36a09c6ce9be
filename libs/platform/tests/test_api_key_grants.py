"""What a key may do: scopes as the CLI reads them, expiry, and the authenticator's cache."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from keepword_platform.auth import authenticator as module
from keepword_platform.auth.authenticator import ApiKeyAuthenticator
from keepword_platform.auth.grants import (
    DEFAULT_SCOPES,
    Grant,
    Scope,
    expiry,
    parse_scopes,
    scopes_text,
)
from keepword_platform.problems import Problem

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def test_scopes_read_in_any_order_and_case_and_print_in_one() -> None:
    assert parse_scopes(" Write,read ") == DEFAULT_SCOPES
    assert scopes_text(parse_scopes("decide,read,write")) == "read,write,decide"


@pytest.mark.parametrize("text", ["", ",", "admin", "read,admin"])
def test_an_unknown_or_empty_scope_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="choose from read, write, decide"):
        parse_scopes(text)


def test_a_key_expires_after_a_duration_or_at_the_end_of_a_day() -> None:
    assert expiry(NOW) is None
    assert expiry(NOW, expires_in=timedelta(days=90)) == NOW + timedelta(days=90)
    assert expiry(NOW, expires_on=date(2026, 3, 10)) == datetime(2026, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "given",
    [
        {"expires_on": date(2026, 3, 9)},
        {"expires_in": timedelta(0)},
        {"expires_in": timedelta(days=1), "expires_on": date(2027, 1, 1)},
    ],
)
def test_an_expiry_in_the_past_or_twice_given_is_refused(given: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"expire at once|not both"):
        expiry(NOW, **given)


def test_a_grant_expires_at_its_moment() -> None:
    grant = Grant("k", "n", frozenset({Scope.READ}), expires_at=NOW)
    assert not grant.expired(NOW - timedelta(seconds=1))
    assert grant.expired(NOW)
    assert grant.allows(Scope.READ)
    assert not grant.allows(Scope.WRITE)


class Clocks:
    def __init__(self) -> None:
        self.monotonic = 0.0
        self.wall = NOW


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store, faked: every look-up and recorded use is counted."""
    seen: list[str] = []
    grant = Grant("abc", "tool", frozenset({Scope.READ}), expires_at=NOW + timedelta(hours=1))

    async def authenticate(_pool: object, text: str) -> Grant | None:
        seen.append(text)
        return grant if text == "good" else None

    async def record_use(_pool: object, key_ids: list[str]) -> None:
        seen.extend(f"used {k}" for k in key_ids)

    monkeypatch.setattr(module, "authenticate", authenticate)
    monkeypatch.setattr(module, "record_use", record_use)
    return seen


async def test_a_cached_key_is_still_refused_once_it_expires(looked_up: list[str]) -> None:
    clocks = Clocks()
    auth = ApiKeyAuthenticator(
        lambda: None,  # type: ignore[arg-type,return-value]
        cache_seconds=3600,
        clock=lambda: clocks.monotonic,
        wall_clock=lambda: clocks.wall,
    )
    assert (await auth.grant_of("Bearer good")).name == "tool"
    assert (await auth.grant_of("Bearer good")).name == "tool"
    clocks.wall = NOW + timedelta(hours=1)

    with pytest.raises(Problem) as refused:
        await auth.grant_of("Bearer good")

    assert refused.value.status == 401
    assert "expired" in refused.value.detail
    assert looked_up.count("good") == 1  # the cache answered the others


async def test_use_is_recorded_at_most_once_a_minute(looked_up: list[str]) -> None:
    clocks = Clocks()
    auth = ApiKeyAuthenticator(
        lambda: None,  # type: ignore[arg-type,return-value]
        cache_seconds=5,
        clock=lambda: clocks.monotonic,
        wall_clock=lambda: clocks.wall,
    )
    for step in range(120):  # two minutes, a request every second
        clocks.monotonic = float(step)
        await auth.grant_of("Bearer good")
    for task in list(auth._writes):
        await task

    assert looked_up.count("used abc") == 2


@pytest.mark.parametrize("header", [None, "", "Basic x", "Bearer", "Bearer bad"])
async def test_no_key_or_a_bad_one_is_a_401(looked_up: list[str], header: str | None) -> None:
    auth = ApiKeyAuthenticator(lambda: None, cache_seconds=5)  # type: ignore[arg-type,return-value]
    with pytest.raises(Problem) as refused:
        await auth.grant_of(header)
    assert refused.value.status == 401
    assert refused.value.headers == {"WWW-Authenticate": "Bearer"}

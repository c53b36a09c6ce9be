"""What an API key may do: its scopes, the manager it decides for, when it expires.

Pure data and rules, no I/O: the store reads a `Grant` from the database, the HTTP dependency
asks it whether a request may go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum


class Scope(StrEnum):
    """One kind of access a key is made for."""

    READ = "read"  # the GET APIs of every service
    WRITE = "write"  # intake's POSTs
    DECIDE = "decide"  # escalation's decision API


# What `keepword apikey create` gives when no --scope is named: what intake's keys did before
# scopes existed (keys made before then keep read, write and decide: see migration 0002).
DEFAULT_SCOPES = frozenset({Scope.READ, Scope.WRITE})


def parse_scopes(text: str) -> frozenset[Scope]:
    """The scopes named in "read,write"; raises ValueError naming the unknown ones."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(names - {scope.value for scope in Scope})
    if unknown or not names:
        known = ", ".join(scope.value for scope in Scope)
        raise ValueError(f"unknown scope {', '.join(unknown) or '(none)'}; choose from {known}")
    return frozenset(Scope(name) for name in names)


def scopes_text(scopes: frozenset[Scope]) -> str:
    """Scopes as the CLI reads and prints them, in a fixed order: "read,write"."""
    return ",".join(scope.value for scope in Scope if scope in scopes)


def expiry(
    now: datetime, *, expires_in: timedelta | None = None, expires_on: date | None = None
) -> datetime | None:
    """When a key made `now` stops working: after `expires_in`, or at the end of `expires_on`
    (UTC); None for never. Raises ValueError for both, or for a moment not in the future."""
    if expires_in is not None and expires_on is not None:
        raise ValueError("give one of --expires-in and --expires, not both")
    if expires_in is not None:
        ends = now + expires_in
    elif expires_on is not None:
        ends = datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=UTC)
    else:
        return None
    if ends <= now:
        raise ValueError(f"the key would expire at once ({ends:%Y-%m-%d %H:%M} UTC)")
    return ends


@dataclass(frozen=True, slots=True)
class Grant:
    """An active key as a request sees it: who it is and what it may do."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    manager: str | None = None  # the manager's email a `decide` key decides for
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """Whether the key no longer works at `now`."""
        return self.expires_at is not None and now >= self.expires_at

    def allows(self, scope: Scope) -> bool:
        """Whether the key was made for `scope`."""
        return scope in self.scopes

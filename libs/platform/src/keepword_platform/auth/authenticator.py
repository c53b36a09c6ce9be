"""API-key authentication for the HTTP APIs, with a short positive cache.

A hit costs a dict look-up instead of a database round trip on every request; a revoked key
stops working within `cache_seconds`. An expired key is refused from its expiry on, cached or
not. A key's last use is written at most once a minute per process, in a task of its own, so a
request never waits for that write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import structlog

from keepword_platform.auth.grants import Grant
from keepword_platform.auth.store import authenticate, record_use
from keepword_platform.problems import unauthorized

log = structlog.get_logger(__name__)

RECORD_USE_EVERY_SECONDS = 60.0
_MAX_ENTRIES = 10_000  # bounds memory against many distinct valid keys


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ApiKeyAuthenticator:
    """Turns an `Authorization: Bearer <key>` header into the key's grant, or a 401."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[str, tuple[Grant, float]] = {}
        self._use_noted: dict[str, float] = {}  # key id -> when its use was last written
        self._writes: set[asyncio.Task[None]] = set()

    async def grant_of(self, authorization: str | None) -> Grant:
        """What the API key in the header may do; raises a 401 problem otherwise."""
        if not authorization:
            raise unauthorized("Send an API key: `Authorization: Bearer <key>`.")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise unauthorized("Use the Bearer scheme: `Authorization: Bearer <key>`.")
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            grant = cached[0]
        else:
            found = await authenticate(self._pool(), key)
            if found is None:
                self._cache.pop(key, None)
                raise unauthorized("The API key is unknown or revoked.")
            if len(self._cache) > _MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = (grant := found, now + self._cache_seconds)
        if grant.expired(self._wall_clock()):
            assert grant.expires_at is not None
            raise unauthorized(f"The API key expired at {grant.expires_at.isoformat()}.")
        self._note_use(grant.key_id, now)
        return grant

    async def client_of(self, authorization: str | None) -> str:
        """The name of the API key in the header; raises a 401 problem otherwise."""
        return (await self.grant_of(authorization)).name

    def _note_use(self, key_id: str, now: float) -> None:
        noted = self._use_noted.get(key_id)
        if noted is not None and now - noted < RECORD_USE_EVERY_SECONDS:
            return
        if len(self._use_noted) > _MAX_ENTRIES:
            self._use_noted.clear()
        self._use_noted[key_id] = now
        task = asyncio.create_task(self._write_use(key_id), name="api-key-last-use")
        self._writes.add(task)  # a reference, or the task may be collected before it runs
        task.add_done_callback(self._writes.discard)

    async def _write_use(self, key_id: str) -> None:
        try:
            await record_use(self._pool(), [key_id])
        except Exception as error:  # a missed "last used" must never fail a request
            log.warning("api key use not recorded", key_id=key_id, error=repr(error))

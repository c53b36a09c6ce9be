"""API-key authentication for the HTTP API, with a short positive cache.

A hit costs a dict look-up instead of a database round trip on every request; a revoked key
stops working within `cache_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg

from keepword_platform.auth.store import authenticate
from keepword_platform.problems import unauthorized


class ApiKeyAuthenticator:
    """Turns an `Authorization: Bearer <key>` header into the key's name, or a 401."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}

    async def client_of(self, authorization: str | None) -> str:
        """The name of the API key in the header; raises a 401 problem otherwise."""
        if not authorization:
            raise unauthorized("Send an API key: `Authorization: Bearer <key>`.")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise unauthorized("Use the Bearer scheme: `Authorization: Bearer <key>`.")
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        name = await authenticate(self._pool(), key)
        if name is None:
            self._cache.pop(key, None)
            raise unauthorized("The API key is unknown or revoked.")
        if len(self._cache) > 10_000:  # bound memory against many distinct valid keys
            self._cache.clear()
        self._cache[key] = (name, now + self._cache_seconds)
        return name

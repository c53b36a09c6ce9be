"""The API-key check of every service's HTTP routes: one FastAPI dependency per scope.

A route names the scope it needs (`dependencies=[READ]`, or a parameter typed `DecideKey` when
it needs the key's grant); no key or a bad one is a 401, a key not made for the scope a 403,
both as problem documents. Each service's runtime holds one authenticator, made when the first
request needs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keepword_platform.auth.authenticator import ApiKeyAuthenticator
from keepword_platform.auth.grants import Grant, Scope
from keepword_platform.problems import Problem

if TYPE_CHECKING:
    from keepword_platform.service import Runtime

AUTHENTICATOR = "authenticator"  # its key in `runtime.extras`
DEFAULT_CACHE_SECONDS = 5.0

# Reads nothing itself (the authenticator does, to say what is wrong with a header); it puts
# the bearer scheme in the OpenAPI document of every route that needs a key.
_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `keepword apikey create`: `Authorization: Bearer kw_…`.",
)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        401: "No API key, or one that is unknown, revoked or expired.",
        403: "The API key is not made for this (its scopes), or not for this manager.",
    }.items()
}


def authenticator_of(runtime: Runtime) -> ApiKeyAuthenticator:
    """The runtime's authenticator, made on first use.

    Its cache lasts the service's `api_key_cache_seconds` where the service has that setting.
    """
    found: ApiKeyAuthenticator | None = runtime.extras.get(AUTHENTICATOR)
    if found is None:
        seconds = getattr(runtime.settings, "api_key_cache_seconds", DEFAULT_CACHE_SECONDS)
        found = ApiKeyAuthenticator(lambda: runtime.db, seconds)
        runtime.extras[AUTHENTICATOR] = found
    return found


def wrong_scope(scope: Scope) -> Problem:
    """403: a valid key, not made for `scope` (RFC 6750's insufficient_scope)."""
    return Problem(
        403,
        "insufficient-scope",
        "Forbidden",
        f"This API key is not made for {scope.value!r}; "
        f"use a key made with `keepword apikey create NAME --scope {scope.value}`.",
        headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope.value}"'},
        extra={"required_scope": scope.value},
    )


def _requiring(scope: Scope) -> Callable[..., Awaitable[Grant]]:
    async def dependency(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Grant:
        runtime: Runtime = request.app.state.runtime
        grant = await authenticator_of(runtime).grant_of(request.headers.get("authorization"))
        if not grant.allows(scope):
            raise wrong_scope(scope)
        return grant

    dependency.__name__ = f"require_{scope.value}"
    return dependency


# One callable per scope, so that FastAPI runs each at most once per request.
_DEPENDENCIES = {scope: _requiring(scope) for scope in Scope}


def require_scope(scope: Scope | str) -> Callable[..., Awaitable[Grant]]:
    """The dependency that lets a request on only with a valid key made for `scope`."""
    return _DEPENDENCIES[Scope(scope)]


READ: DependsParam = Depends(require_scope(Scope.READ))
WRITE: DependsParam = Depends(require_scope(Scope.WRITE))
DECIDE: DependsParam = Depends(require_scope(Scope.DECIDE))

ReadKey = Annotated[Grant, READ]
WriteKey = Annotated[Grant, WRITE]
DecideKey = Annotated[Grant, DECIDE]

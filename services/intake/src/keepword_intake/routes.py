"""The HTTP API: `/v1/messages`, `/v1/messages:batch`, `/v1/commitments`, `.../answer`; and
the pages signed links open (`/answers/`, `/promises/`, `/calls/`, `/feedback/{token}`).

Messages and commitments each have their module; what the routes share is in `api`.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import commitment_routes, message_routes
from .api import Intake
from .pages import answers, calls, promises, ratings

__all__ = ["Intake", "router"]

# Each part keeps the `/v1` prefix itself: a route's own path is what requests are counted by.
router = APIRouter()
router.include_router(message_routes.router)
router.include_router(commitment_routes.router)
# Pages opened from emails: the signed link is their credential, not an API key.
router.include_router(answers.router)
router.include_router(promises.router)
router.include_router(calls.router)
router.include_router(ratings.router)

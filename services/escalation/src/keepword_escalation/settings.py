"""The escalation service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from keepword_platform.settings import ServiceSettings
from pydantic import Field


class EscalationSettings(ServiceSettings):
    """Escalation: decision pages and read API on 8081."""

    http_port: int = Field(default=8081, validation_alias="KEEPWORD_ESCALATION_PORT")
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, validation_alias="KEEPWORD_ESCALATION_API_KEY_CACHE_SECONDS"
    )

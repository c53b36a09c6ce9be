"""The commitments service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from keepword_platform.settings import ServiceSettings
from pydantic import Field


class CommitmentsSettings(ServiceSettings):
    """Commitments: the ledger's read API on 8082."""

    http_port: int = Field(default=8082, validation_alias="KEEPWORD_COMMITMENTS_PORT")
